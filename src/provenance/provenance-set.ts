/**
 * Interned provenance sets: the sources some data derives from plus its derived labels.
 * Equal sets are one object with one small integer id, so contexts, the policy memo and the
 * fs store compare ids instead of arrays. The intern table holds sets weakly (a set lives as
 * long as some context or cache uses it); transition memos are bounded.
 */
import { BoundedCache } from '../support/bounded-cache.js';
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

const MEMO_LIMIT = 16_384;

export class ProvenanceSets {
  readonly empty: ProvenanceSet;
  private readonly interned = new Map<string, WeakRef<ProvenanceSet>>();
  private readonly reaper = new FinalizationRegistry<string>((key) => {
    const ref = this.interned.get(key);
    if (ref && ref.deref() === undefined) this.interned.delete(key);
  });
  private readonly addMemo = new BoundedCache<string, ProvenanceSet>(MEMO_LIMIT);
  private readonly unionMemo = new BoundedCache<string, ProvenanceSet>(MEMO_LIMIT);
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
    const result =
      sources === set.sources && joined === set.labels
        ? set
        : this.intern(sources, joined, mergeOrigins(set.origins, set.labels, labels, source, joined));
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
          : this.intern(sources, joined, unionOrigins(a, b, joined));
    this.unionMemo.set(memoKey, result);
    return result;
  }

  /** A set from explicit parts (the fs store, verified baggage). */
  of(sources: Iterable<string>, labels: Labels, origins?: LabelOrigins): ProvenanceSet {
    const sorted = [...new Set(sources)].sort();
    if (sorted.length === 0 && labelsKey(labels) === labelsKey(this.empty.labels)) return this.empty;
    return this.intern(sorted, labels, origins ?? { tags: {}, locations: {} });
  }

  private intern(sources: readonly string[], labels: Labels, origins: LabelOrigins): ProvenanceSet {
    const key = `${labelsKey(labels)}\n${sources.join('\n')}`;
    const existing = this.interned.get(key)?.deref();
    if (existing) return existing;
    const set: ProvenanceSet = { id: this.nextId++, sources, labels, origins };
    this.interned.set(key, new WeakRef(set));
    this.reaper.register(set, key);
    return set;
  }
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
