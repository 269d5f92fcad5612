import { stringHash } from './string-hash.js';

/**
 * The one bounded map of the code base. Least-recently-used eviction is approximated by two
 * generations: entries live in `young` until it fills, then `young` becomes `old` and the
 * previous `old` is dropped whole. A hit in `old` is promoted. This costs one or two Map lookups
 * per read (no reordering on every hit, unlike a strict LRU), never holds more than `capacity`
 * entries, and unlike "clear everything when full" keeps the hot half across a turnover.
 * `undefined` is not a storable value (it means "absent"); store `null` for a cached "no".
 *
 * With `admitRepeats`, a key is stored only when it is set a second time while a fixed-size table
 * of recent key hashes still holds it (a doorkeeper). Why: under a stream of keys that never
 * repeat (a new user, file or set per request) every stored entry outlives the young generation
 * only to be evicted, and V8 grows the young generation with the bytes that survive it; a key seen
 * once costs 4 bytes of the table instead. A repeated key pays one more miss. A refused `set`
 * also deletes the key's entry, so an update is never left behind by a stale value.
 */
export class BoundedCache<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();
  private youngWeight = 0;
  private readonly generationWeight: number;
  private readonly sighted: Uint32Array | undefined;

  /**
   * `capacity` counts entries, or with `weigh` the sum of the entries' weights (for values whose
   * size varies by orders of magnitude, such as source lists): then the cache holds at most
   * `capacity` units, whatever the number of entries.
   */
  constructor(
    capacity: number,
    private readonly weigh?: (value: V) => number,
    options?: { admitRepeats?: boolean },
  ) {
    this.generationWeight = Math.max(1, Math.floor(capacity / 2));
    // One slot per storable entry (at most 65,536: 256 KiB), so a key repeating within about a
    // cache's worth of other keys is still remembered.
    if (options?.admitRepeats === true) this.sighted = new Uint32Array(2 ** Math.min(16, Math.ceil(Math.log2(Math.max(2, capacity)))));
  }

  get size(): number {
    return this.young.size + this.old.size;
  }

  get(key: K): V | undefined {
    const hit = this.young.get(key);
    if (hit !== undefined) return hit;
    const aged = this.old.get(key);
    if (aged !== undefined) {
      this.old.delete(key);
      this.store(key, aged);
    }
    return aged;
  }

  set(key: K, value: V): void {
    if (this.sighted !== undefined && !this.seenBefore(key)) this.delete(key);
    else this.store(key, value);
  }

  private store(key: K, value: V): void {
    const weight = this.weigh === undefined ? 1 : this.weigh(value);
    if (this.youngWeight + weight > this.generationWeight && this.young.size > 0) {
      this.old = this.young;
      this.young = new Map();
      this.youngWeight = 0;
    }
    // One entry heavier than a generation is not kept: holding it would break the bound.
    if (weight > this.generationWeight) return;
    this.young.set(key, value);
    this.youngWeight += weight;
  }

  delete(key: K): void {
    this.young.delete(key);
    this.old.delete(key);
  }

  clear(): void {
    this.young.clear();
    this.old.clear();
    this.youngWeight = 0;
  }

  /** Records the key's hash; true when its slot already held it. */
  private seenBefore(key: K): boolean {
    const table = this.sighted as Uint32Array;
    const hash = keyHash(key);
    const slot = hash & (table.length - 1);
    if (table[slot] === hash) return true;
    table[slot] = hash;
    return false;
  }
}

/** A non-zero 32-bit hash of a string or number key (other keys all share one, so they are admitted on their second set). */
function keyHash(key: unknown): number {
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
