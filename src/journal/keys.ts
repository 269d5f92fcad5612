/** Ed25519 keys for checkpoint signatures: loading (PEM text or a path to it), key ids, sign and verify. */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface SigningKey {
  privateKey: KeyObject;
  /** SPKI DER, base64: embedded in segment headers. */
  publicKey: string;
  keyId: string;
}

/** `value` is PEM text or a path to a PEM file. */
function pemText(value: string): string {
  return value.includes('-----BEGIN') ? value : readFileSync(value, 'utf8');
}

function requireEd25519(key: KeyObject): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519')
    throw new TypeError(`journal keys must be Ed25519, got ${key.asymmetricKeyType ?? 'a symmetric key'}`);
  return key;
}

/** First 16 hex characters of SHA-256 of the public key's SPKI DER. */
export function keyIdOf(publicKeyDer: Buffer): string {
  return createHash('sha256').update(publicKeyDer).digest('hex').slice(0, 16);
}

export function loadSigningKey(value: string): SigningKey {
  const privateKey = requireEd25519(createPrivateKey(pemText(value)));
  const der = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  return { privateKey, publicKey: der.toString('base64'), keyId: keyIdOf(der) };
}

/** Accepts a public or a private key (its public half is used). Returns SPKI DER base64. */
export function loadPublicKey(value: string): string {
  const pem = pemText(value);
  const key = pem.includes('PRIVATE KEY') ? createPublicKey(createPrivateKey(pem)) : createPublicKey(pem);
  return requireEd25519(key).export({ type: 'spki', format: 'der' }).toString('base64');
}

export function signStatement(key: SigningKey, statement: string): string {
  return sign(null, Buffer.from(statement), key.privateKey).toString('base64');
}

/** Parsed public keys are cached: a segment's checkpoints all share one. */
const publicKeys = new Map<string, KeyObject>();

export function verifyStatement(publicKeyBase64: string, statement: string, signature: string): boolean {
  try {
    let key = publicKeys.get(publicKeyBase64);
    if (!key) {
      key = requireEd25519(createPublicKey({ key: Buffer.from(publicKeyBase64, 'base64'), format: 'der', type: 'spki' }));
      publicKeys.set(publicKeyBase64, key);
    }
    return verify(null, Buffer.from(statement), key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
