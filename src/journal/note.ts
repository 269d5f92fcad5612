/**
 * C2SP signed notes (c2sp.org/signed-note): note text, signature lines `— <name> base64(keyID ‖ sig)`,
 * verifier keys `<name>+<hex keyID>+base64(type ‖ key)`, Ed25519 note signatures (type 0x01) and
 * timestamped Ed25519 cosignatures (type 0x04, c2sp.org/tlog-cosignature). Parsing is strict:
 * anything that is not exactly this shape is an error, never read leniently.
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

export const SIG_ED25519 = 0x01;
export const SIG_COSIGNATURE = 0x04;

/** Verifiers must accept at least 16 signatures; more than this many is treated as malformed. */
const MAX_SIGNATURES = 64;
const DASH = '\u2014 ';

export interface NoteSignature {
  name: string;
  keyId: Buffer;
  /** The bytes after the key ID: a signature, or for cosignatures a timestamp and a signature. */
  body: Buffer;
}

export interface Note {
  /** The note text, ending in a newline, without the blank separator line. */
  text: string;
  signatures: NoteSignature[];
}

/** A verifier key: who signs, with which algorithm, and the raw 32-byte Ed25519 public key. */
export interface Vkey {
  name: string;
  keyId: Buffer;
  type: number;
  publicKey: Buffer;
  /** The vkey text it was read from or formatted as. */
  text: string;
}

export class NoteError extends Error {}

/** Key names are non-empty with no Unicode spaces and no plus (signed-note, Format). */
export function isKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name);
}

export function keyIdOf(name: string, type: number, publicKey: Buffer): Buffer {
  return createHash('sha256')
    .update(name)
    .update(Buffer.from([0x0a, type]))
    .update(publicKey)
    .digest()
    .subarray(0, 4);
}

export function formatVkey(name: string, type: number, publicKey: Buffer): Vkey {
  if (!isKeyName(name)) throw new NoteError(`"${name}" is not a valid key name (no spaces or +)`);
  const keyId = keyIdOf(name, type, publicKey);
  const text = `${name}+${keyId.toString('hex')}+${Buffer.concat([Buffer.from([type]), publicKey]).toString('base64')}`;
  return { name, keyId, type, publicKey, text };
}

/** Reads a vkey; only Ed25519 note keys and Ed25519 cosignature keys are accepted. */
export function parseVkey(text: string): Vkey {
  // The name has no '+', the key ID is 8 hex digits; base64 may contain '+' itself.
  const match = /^([^+]+)\+([0-9a-f]{8})\+(.+)$/s.exec(text.trim());
  if (!match || !isKeyName(match[1])) throw new NoteError(`not a verifier key (name+keyid+base64): ${text.slice(0, 80)}`);
  const parts = match.slice(1);
  const material = strictBase64(parts[2]);
  if (!material || material.length !== 33 || (material[0] !== SIG_ED25519 && material[0] !== SIG_COSIGNATURE))
    throw new NoteError(`verifier key ${parts[0]} is not an Ed25519 (0x01) or Ed25519 cosignature (0x04) key`);
  const vkey = formatVkey(parts[0], material[0], material.subarray(1));
  if (vkey.keyId.toString('hex') !== parts[1]) throw new NoteError(`verifier key ${parts[0]}: key ID does not match the key`);
  return vkey;
}

/** Standard base64 with padding, and only that (Buffer.from would skip stray characters). */
export function strictBase64(text: string): Buffer | undefined {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

/** Splits a note at its last blank line; the text must end in a newline, signatures must be well formed. */
export function parseNote(source: string): Note {
  for (let i = 0; i < source.length; i++) {
    const code = source.charCodeAt(i);
    if (code < 0x20 && code !== 0x0a) throw new NoteError('note contains control characters');
  }
  if (!source.endsWith('\n')) throw new NoteError('note does not end with a newline');
  const at = source.lastIndexOf('\n\n');
  if (at < 0) throw new NoteError('note has no signatures (no blank line before signature lines)');
  const text = source.slice(0, at + 1);
  const lines = source.slice(at + 2, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw new NoteError(`note has more than ${MAX_SIGNATURES} signatures`);
  const signatures = lines.map((line) => {
    const match = /^\u2014 (\S+) (\S+)$/u.exec(line);
    const bytes = match ? strictBase64(match[2]) : undefined;
    if (!match || !isKeyName(match[1]) || !bytes || bytes.length < 5) throw new NoteError(`malformed signature line: ${line.slice(0, 80)}`);
    return { name: match[1], keyId: bytes.subarray(0, 4), body: bytes.subarray(4) };
  });
  return { text, signatures };
}

export function formatNote(note: Note): string {
  return note.text + '\n' + note.signatures.map(signatureLine).join('');
}

export function signatureLine(signature: NoteSignature): string {
  return `${DASH}${signature.name} ${Buffer.concat([signature.keyId, signature.body]).toString('base64')}\n`;
}

function ed25519Key(raw: Buffer): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

/** The raw 32-byte public key of an Ed25519 key object (public or private). */
export function rawPublicKey(key: KeyObject): Buffer {
  const jwk = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new NoteError('not an Ed25519 key');
  return Buffer.from(jwk.x, 'base64url');
}

export function signNoteText(text: string, name: string, privateKey: KeyObject): NoteSignature {
  const publicKey = rawPublicKey(privateKey);
  return { name, keyId: keyIdOf(name, SIG_ED25519, publicKey), body: sign(null, Buffer.from(text), privateKey) };
}

/** The signature of `vkey` in the note: absent (no line with its name and ID), valid or invalid. */
export function checkNoteSignature(note: Note, vkey: Vkey): 'absent' | 'valid' | 'invalid' {
  if (vkey.type !== SIG_ED25519) return 'absent';
  const mine = note.signatures.filter((s) => s.name === vkey.name && s.keyId.equals(vkey.keyId));
  if (mine.length === 0) return 'absent';
  const key = ed25519Key(vkey.publicKey);
  return mine.every((s) => s.body.length === 64 && verify(null, Buffer.from(note.text), key, s.body)) ? 'valid' : 'invalid';
}

/** The message a cosignature/v1 signs: header line, timestamp line, then the checkpoint text. */
function cosignedMessage(text: string, timestamp: bigint): Buffer {
  return Buffer.from(`cosignature/v1\ntime ${timestamp}\n${text}`);
}

export function cosign(text: string, name: string, privateKey: KeyObject, timestamp: bigint): NoteSignature {
  const publicKey = rawPublicKey(privateKey);
  const stamp = Buffer.alloc(8);
  stamp.writeBigUInt64BE(timestamp);
  return {
    name,
    keyId: keyIdOf(name, SIG_COSIGNATURE, publicKey),
    body: Buffer.concat([stamp, sign(null, cosignedMessage(text, timestamp), privateKey)]),
  };
}

/** A witness's cosignature on the note: absent, invalid, or valid with its timestamp (POSIX seconds). */
export function checkCosignature(note: Note, vkey: Vkey): { status: 'absent' | 'invalid' } | { status: 'valid'; timestamp: bigint } {
  if (vkey.type !== SIG_COSIGNATURE) return { status: 'absent' };
  const mine = note.signatures.filter((s) => s.name === vkey.name && s.keyId.equals(vkey.keyId));
  if (mine.length === 0) return { status: 'absent' };
  const key = ed25519Key(vkey.publicKey);
  let timestamp = 0n;
  for (const s of mine) {
    if (s.body.length !== 72) return { status: 'invalid' };
    timestamp = s.body.readBigUInt64BE(0);
    if (timestamp >= 1n << 63n || !verify(null, cosignedMessage(note.text, timestamp), key, s.body.subarray(8)))
      return { status: 'invalid' };
  }
  return { status: 'valid', timestamp };
}
