import { stringHash } from './string-hash.js';

/**
 * A fixed table of recent key hashes, one 4-byte slot per key it can tell apart: whether a key
 * was noted before, without keeping the key. Caches and summaries use it to keep an entry only
 * from its second sighting. Why: under a stream of keys that never repeat (a new user, file or set
 * per request) every entry kept outlives V8's young generation only to be dropped later, and V8
 * grows the young generation with the bytes that survive it (README "Memory and journal bytes with
 * distinct users"). A hash collision or an overwritten slot only moves an entry's admission by one
 * sighting; nothing relies on it for correctness.
 */
export class Doorkeeper {
  private readonly table: Uint32Array;

  /** `keys`: how many recent keys it should tell apart (rounded up to a power of two, at most 65,536: 256 KiB). */
  constructor(keys: number) {
    this.table = new Uint32Array(2 ** Math.min(16, Math.ceil(Math.log2(Math.max(2, keys)))));
  }

  /** Notes `hash` (from `keyHash`, or any non-zero 32-bit number); true when it was already noted. */
  note(hash: number): boolean {
    const slot = hash & (this.table.length - 1);
    if (this.table[slot] === hash) return true;
    this.table[slot] = hash;
    return false;
  }

  /** Whether `hash` was noted (without noting it). */
  has(hash: number): boolean {
    return this.table[hash & (this.table.length - 1)] === hash;
  }
}

/** A non-zero 32-bit hash of a string or number key (other keys all share one, so they are admitted on their second sighting). */
export function keyHash(key: unknown): number {
  let hash = 1;
  if (typeof key === 'string') hash = stringHash(key) % 2 ** 32;
  else if (typeof key === 'number') hash = mix((key % 2 ** 32) ^ Math.imul(Math.floor(key / 2 ** 32), 0x9e3779b1));
  return hash >>> 0 || 1;
}

/**
 * Spreads every input bit over the low bits the table slot is taken from (MurmurHash3's 32-bit
 * finaliser). A bare multiply leaves the low bits depending on the key's low bits only, and
 * composite keys (`set * 2^21 + destination`, the policy's decision memo) share those: every set
 * flowing to one destination fell in one slot, so interleaved sets were never admitted.
 */
function mix(value: number): number {
  let h = value;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * `hash` combined with a number (an id or a string's `stringHash`), for keys of several parts
 * hashed without joining them. The shifts carry high bits into the low ones a table slot takes.
 */
export function mixHash(hash: number, value: number): number {
  let mixed = Math.imul(hash ^ (value % 2 ** 32), 0x9e3779b1);
  mixed = Math.imul(mixed ^ (mixed >>> 15) ^ Math.floor(value / 2 ** 32), 0x85ebca6b);
  return (mixed ^ (mixed >>> 13)) >>> 0;
}
