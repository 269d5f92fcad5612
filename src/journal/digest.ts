/** Helpers the engine uses before handing an event to the journal: content digests and user pseudonyms. */
import { createHmac, hash } from 'node:crypto';
import type { ContentHashAlgorithm } from '../config/types.js';

/** `<algorithm>:<hex>` of the content; undefined for 'none'. The algorithm travels with the digest. */
export function contentDigest(algorithm: ContentHashAlgorithm, data: Uint8Array | string): string | undefined {
  if (algorithm === 'none') return undefined;
  return `${algorithm}:${hash(algorithm, data, 'hex')}`;
}

/** HMAC-SHA256 pseudonym of an end-user id: stable per key, so queries can still group by user. */
export function pseudonymize(user: string, key: string): string {
  return 'hmac:' + createHmac('sha256', key).update(user).digest('hex');
}
