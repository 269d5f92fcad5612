/**
 * Random bytes drawn from the CSPRNG in batches: span ids and claim nonces are made per request,
 * and one `randomFillSync` per ~4 KiB costs far less than one `randomBytes` call per id.
 */
import { randomFillSync } from 'node:crypto';

const pool = Buffer.allocUnsafe(4096);
let used = pool.length;

/** `bytes` fresh random bytes, as text in `encoding`. */
export function randomText(bytes: number, encoding: 'hex' | 'base64url'): string {
  if (used + bytes > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const text = pool.toString(encoding, used, used + bytes);
  used += bytes;
  return text;
}
