import { Doorkeeper, keyHash } from './doorkeeper.js';

/**
 * The one bounded map of the code base. Least-recently-used eviction is approximated by two
 * generations: entries live in `young` until it fills, then `young` becomes `old` and the
 * previous `old` is dropped whole. A hit in `old` is promoted. This costs one or two Map lookups
 * per read (no reordering on every hit, unlike a strict LRU), never holds more than `capacity`
 * entries, and unlike "clear everything when full" keeps the hot half across a turnover.
 * `undefined` is not a storable value (it means "absent"); store `null` for a cached "no".
 *
 * With `admitRepeats`, a key is stored only when it is set a second time while a `Doorkeeper`
 * still holds its hash (see there why): a key seen once costs 4 bytes of the table instead. A
 * repeated key pays one more miss. A refused `set` also deletes the key's entry, so an update is
 * never left behind by a stale value.
 */
export class BoundedCache<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();
  private youngWeight = 0;
  private readonly generationWeight: number;
  private readonly sighted: Doorkeeper | undefined;

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
    if (options?.admitRepeats === true) this.sighted = new Doorkeeper(capacity);
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
    if (this.sighted !== undefined && !this.sighted.note(keyHash(key))) this.delete(key);
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
}
