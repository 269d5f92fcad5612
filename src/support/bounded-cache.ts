import { Doorkeeper, keyHash } from './doorkeeper.js';

/**
 * The one bounded map of the code base. Least-recently-used eviction is approximated by two
 * generations: entries live in `young` until it fills, then `young` becomes `old` and the
 * previous `old` is dropped whole. A hit in `old` is promoted. This costs one or two Map lookups
 * per read (no reordering on every hit, unlike a strict LRU), never holds more than `capacity`
 * entries, and unlike "clear everything when full" keeps the hot half across a turnover.
 * `undefined` is not a storable value (it means "absent"); store `null` for a cached "no".
 *
 * With `admitRepeats`, a key set for the first time goes to a small `window` cache (by default
 * 1/64 of the capacity), where it stays while it is used again soon (one request naming its file
 * twice); it enters the main cache only when it is set again after leaving the window, while a
 * `Doorkeeper` still holds its hash (see there why). A key that never comes back (a new user, file
 * or set per request) is so dropped within a window's worth of other keys, young enough to die in
 * a scavenge, instead of being held until a whole cache's worth of others evict it. A recurring
 * key pays one more miss. A value set is always stored (in one of the two), so none goes stale.
 */
export class BoundedCache<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();
  private youngWeight = 0;
  private readonly generationWeight: number;
  private readonly sighted: Doorkeeper | undefined;
  private readonly window: BoundedCache<K, V> | undefined;

  /**
   * `capacity` counts entries, or with `weigh` the sum of the entries' weights (for values whose
   * size varies by orders of magnitude, such as source lists): then the cache holds at most
   * `capacity` units, whatever the number of entries. The window of `admitRepeats` holds up to
   * `window` more (entries or units).
   */
  constructor(
    capacity: number,
    private readonly weigh?: (value: V) => number,
    options?: { admitRepeats?: boolean; window?: number },
  ) {
    this.generationWeight = Math.max(1, Math.floor(capacity / 2));
    // One slot per storable entry (at most 65,536: 256 KiB), so a key repeating within about a
    // cache's worth of other keys is still remembered.
    if (options?.admitRepeats === true) {
      this.sighted = new Doorkeeper(capacity);
      this.window = new BoundedCache(options.window ?? Math.max(16, Math.floor(capacity / 64)), weigh);
    }
  }

  get size(): number {
    return this.young.size + this.old.size + (this.window?.size ?? 0);
  }

  get(key: K): V | undefined {
    const hit = this.young.get(key);
    if (hit !== undefined) return hit;
    const aged = this.old.get(key);
    if (aged !== undefined) {
      this.old.delete(key);
      this.store(key, aged);
      return aged;
    }
    return this.window?.get(key);
  }

  set(key: K, value: V): void {
    const window = this.window;
    if (window !== undefined && !this.young.has(key) && !this.old.has(key)) {
      // Used again soon, or seen for the first time (or so long ago that the doorkeeper forgot): the window.
      if (window.get(key) !== undefined || !(this.sighted as Doorkeeper).note(keyHash(key))) return window.set(key, value);
    }
    this.store(key, value);
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
    this.window?.delete(key);
  }

  clear(): void {
    this.young.clear();
    this.old.clear();
    this.youngWeight = 0;
    this.window?.clear();
  }
}
