/**
 * The one bounded map of the code base. Least-recently-used eviction is approximated by two
 * generations: entries live in `young` until it fills, then `young` becomes `old` and the
 * previous `old` is dropped whole. A hit in `old` is promoted. This costs one or two Map lookups
 * per read (no reordering on every hit, unlike a strict LRU), never holds more than `capacity`
 * entries, and unlike "clear everything when full" keeps the hot half across a turnover.
 * `undefined` is not a storable value (it means "absent"); store `null` for a cached "no".
 */
export class BoundedCache<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();
  private readonly generationSize: number;

  constructor(capacity: number) {
    this.generationSize = Math.max(1, Math.floor(capacity / 2));
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
      this.set(key, aged);
    }
    return aged;
  }

  set(key: K, value: V): void {
    if (this.young.size >= this.generationSize) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }

  delete(key: K): void {
    this.young.delete(key);
    this.old.delete(key);
  }

  clear(): void {
    this.young.clear();
    this.old.clear();
  }
}
