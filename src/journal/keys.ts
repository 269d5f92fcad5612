/**
 * The log's Ed25519 key: loading it (PEM text or a path to it) and its C2SP verifier key. A log's
 * key name is `provenant/<node>/<service>`, so one key and name verify every process log of that
 * service on that node (their origins extend the name, see README "The journal").
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { formatVkey, parseVkey, rawPublicKey, SIG_ED25519, type Vkey } from './note.js';

export interface SigningKey {
  privateKey: KeyObject;
  /** Raw 32-byte Ed25519 public key. */
  publicKey: Buffer;
}

/** `value` is PEM text or a path to a PEM file; a missing or unreadable file throws. */
function pemText(value: string): string {
  return value.includes('-----BEGIN') ? value : readFileSync(value, 'utf8');
}

function requireEd25519(key: KeyObject): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519')
    throw new TypeError(`journal keys must be Ed25519, got ${key.asymmetricKeyType ?? 'a symmetric key'}`);
  return key;
}

export function loadSigningKey(value: string): SigningKey {
  const privateKey = requireEd25519(createPrivateKey(pemText(value)));
  return { privateKey, publicKey: rawPublicKey(privateKey) };
}

/** A public key as PEM (public or private), a path to one, or a vkey; returns the raw 32 bytes. */
export function loadPublicKey(value: string): Buffer {
  if (/^\S+\+[0-9a-f]{8}\+\S+$/.test(value.trim())) return parseVkey(value).publicKey;
  const pem = pemText(value);
  const key = pem.includes('PRIVATE KEY') ? createPrivateKey(pem) : createPublicKey(pem);
  return rawPublicKey(requireEd25519(key));
}

/** Key names carry no spaces or plus signs; anything else in a node or service name becomes `_`. */
export function nameSegment(text: string): string {
  return text.replace(/[^A-Za-z0-9._:-]/g, '_') || '_';
}

export function logKeyName(node: string, service: string): string {
  return `provenant/${nameSegment(node)}/${nameSegment(service)}`;
}

export function logVkey(node: string, service: string, publicKey: Buffer): Vkey {
  return formatVkey(logKeyName(node, service), SIG_ED25519, publicKey);
}
