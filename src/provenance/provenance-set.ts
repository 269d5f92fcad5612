/**
 * Interned provenance sets: the sources some data derives from plus its derived labels.
 * Equal sets are one object with one small integer id, so contexts, the policy memo and the
 * fs store compare ids instead of arrays. The intern table holds sets weakly (a set lives as
 * long as some context or cache uses it) under a key of fixed size: the labels, the number of
 * sources and an order-independent hash of them, kept per set so adding a source updates it in
 * O(1) (a key holding the joined sources made memory grow with the square of the sources one
 * context touches). Transition memos are bounded by the sources they keep alive, not by entries.
 */
import { BoundedCache } from '../support/bounded-cache.js';
import { stringHash } from '../support/string-hash.js';
import { joinLabels, labelsKey, unionSorted, type Labels } from './labels.js';

/** Which source first brought each label, so a denial can name the culprit. */
export interface LabelOrigins {
  readonly confidentiality?: string;
  readonly integrity?: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly locations: Readonly<Record<string, string>>;
}

export interface ProvenanceSet {
  readonly id: number;
  /** Sorted, unique source URIs. */
  readonly sources: readonly string[];
  readonly labels: Labels;
  readonly origins: LabelOrigins;
}

/**
 * Transition memos are weighed in source references (8 bytes each), an entry itself counting as
 * 16: up to 4,096 entries of small sets (about 1.5 MiB each memo), far fewer of large ones.
 */
const MEMO_WEIGHT_LIMIT = 16 * 4096;
const memoWeight = (set: ProvenanceSet): number => 16 + set.sources.length;

export class ProvenanceSets {
  readonly empty: ProvenanceSet;
  /**
   * A new set waits in a window of 8,192 units (~500 small sets; made again there, it is the same
   * set) and is kept for long only when it is made again after that: one user's set per request
   * is not held until 4,096 others evict it.
   */
  private readonly interned = new BoundedCache<string, ProvenanceSet>(MEMO_WEIGHT_LIMIT, memoWeight, {
    admitRepeats: true,
    window: MEMO_WEIGHT_LIMIT / 8,
  });
  /** The source hash of every set made here. */
  private readonly hashes = new WeakMap<ProvenanceSet, number>();
  private readonly addMemo = new BoundedCache<string, ProvenanceSet>(MEMO_WEIGHT_LIMIT, memoWeight, { admitRepeats: true });
  private readonly unionMemo = new BoundedCache<string, ProvenanceSet>(MEMO_WEIGHT_LIMIT, memoWeight, { admitRepeats: true });
  private nextId = 1;

  constructor(neutral: Labels) {
    this.empty = { id: 0, sources: [], labels: neutral, origins: { tags: {}, locations: {} } };
  }

  get size(): number {
    return this.interned.size;
  }

  /** `set` plus one source carrying `labels`. */
  withSource(set: ProvenanceSet, source: string, labels: Labels): ProvenanceSet {
    const memoKey = `${set.id}|${source}|${labelsKey(labels)}`;
    const memo = this.addMemo.get(memoKey);
    if (memo) return memo;
    const sources = unionSorted(set.sources, [source]);
    const joined = joinLabels(set.labels, labels);
    const hash = sources === set.sources ? this.hashOf(set) : addHash(this.hashOf(set), source);
    const result =
      sources === set.sources && joined === set.labels
        ? set
        : this.intern(sources, joined, mergeOrigins(set.origins, set.labels, labels, source, joined), hash);
    this.addMemo.set(memoKey, result);
    return result;
  }

  union(a: ProvenanceSet, b: ProvenanceSet): ProvenanceSet {
    if (a === b || b.id === 0) return a;
    if (a.id === 0) return b;
    const memoKey = a.id < b.id ? `${a.id}|${b.id}` : `${b.id}|${a.id}`;
    const memo = this.unionMemo.get(memoKey);
    if (memo) return memo;
    const sources = unionSorted(a.sources, b.sources);
    const joined = joinLabels(a.labels, b.labels);
    const result =
      sources === a.sources && joined === a.labels
        ? a
        : sources === b.sources && joined === b.labels
          ? b
          : this.intern(sources, joined, unionOrigins(a, b, joined), this.unionHash(a, b));
    this.unionMemo.set(memoKey, result);
    return result;
  }

  /** A set from explicit parts (the fs store, verified baggage). */
  of(sources: Iterable<string>, labels: Labels, origins?: LabelOrigins): ProvenanceSet {
    const sorted = [...new Set(sources)].sort();
    if (sorted.length === 0 && labelsKey(labels) === labelsKey(this.empty.labels)) return this.empty;
    return this.intern(sorted, labels, origins ?? { tags: {}, locations: {} }, hashSources(sorted));
  }

  /**
   * The hash of a ∪ b from the larger set's hash and the smaller set's sources it lacks: a context
   * that reads N files one by one would otherwise hash all its sources again at every read.
   */
  private unionHash(a: ProvenanceSet, b: ProvenanceSet): number {
    const [large, small] = a.sources.length >= b.sources.length ? [a, b] : [b, a];
    let hash = this.hashOf(large);
    for (const source of small.sources) if (!includesSorted(large.sources, source)) hash = addHash(hash, source);
    return hash;
  }

  private hashOf(set: ProvenanceSet): number {
    return this.hashes.get(set) ?? hashSources(set.sources);
  }

  private intern(sources: readonly string[], labels: Labels, origins: LabelOrigins, hash: number): ProvenanceSet {
    const key = `${labelsKey(labels)}\n${sources.length}\n${hash}`;
    const existing = this.interned.get(key);
    if (existing && sameSources(existing.sources, sources)) return existing;
    const set: ProvenanceSet = { id: this.nextId++, sources, labels, origins };
    this.hashes.set(set, hash);
    // On a hash collision the newer set takes the slot; the older one keeps its id and stays correct.
    this.interned.set(key, set);
    return set;
  }
}

/** Order-independent hash of a source list: the sum of the sources' hashes, modulo 2^52. */
function hashSources(sources: readonly string[]): number {
  let hash = 0;
  for (const source of sources) hash = addHash(hash, source);
  return hash;
}

const HASH_MODULUS = 2 ** 52;

function addHash(hash: number, source: string): number {
  return (hash + stringHash(source)) % HASH_MODULUS;
}

/** Binary search in a sorted, unique source list. */
function includesSorted(sources: readonly string[], source: string): boolean {
  let low = 0;
  let high = sources.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const at = sources[middle];
    if (at === source) return true;
    if (at < source) low = middle + 1;
    else high = middle - 1;
  }
  return false;
}

function sameSources(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function mergeOrigins(base: LabelOrigins, baseLabels: Labels, added: Labels, source: string, joined: Labels): LabelOrigins {
  let tags = base.tags;
  for (const tag of added.tags) {
    if (!(tag in tags)) tags = { ...tags, [tag]: source };
  }
  let locations = base.locations;
  for (const location of added.locations) {
    if (!(location in locations)) locations = { ...locations, [location]: source };
  }
  const confidentiality =
    joined.confidentiality !== baseLabels.confidentiality || base.confidentiality === undefined ? source : base.confidentiality;
  const integrity = joined.integrity !== baseLabels.integrity || base.integrity === undefined ? source : base.integrity;
  return { confidentiality, integrity, tags, locations };
}

function unionOrigins(a: ProvenanceSet, b: ProvenanceSet, joined: Labels): LabelOrigins {
  const pick = (x: string | undefined, y: string | undefined, fromA: boolean): string | undefined => (fromA ? (x ?? y) : (y ?? x));
  return {
    confidentiality: pick(a.origins.confidentiality, b.origins.confidentiality, joined.confidentiality === a.labels.confidentiality),
    integrity: pick(a.origins.integrity, b.origins.integrity, joined.integrity === a.labels.integrity),
    tags: { ...b.origins.tags, ...a.origins.tags },
    locations: { ...b.origins.locations, ...a.origins.locations },
  };
}
