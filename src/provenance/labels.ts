/**
 * Label lattices. Levels are stored as indices into the configured level lists so the hot path
 * compares small integers; tags and locations are sorted, de-duplicated string arrays so equal
 * labels have equal keys.
 */
import { DEFAULT_CONFIDENTIALITY_LEVELS, DEFAULT_INTEGRITY_LEVELS } from '../config/defaults.js';
import type { LabelSpec } from '../config/types.js';

export interface Labels {
  /** Index into LabelSchema.confidentiality (higher = more confidential). */
  readonly confidentiality: number;
  /** Index into LabelSchema.integrity (higher = more trustworthy). */
  readonly integrity: number;
  readonly tags: readonly string[];
  readonly locations: readonly string[];
}

/** Labels in their readable form, as users, spans and the journal see them. */
export interface PublicLabels {
  confidentiality: string;
  integrity: string;
  tags: string[];
  locations: string[];
}

export class LabelSchema {
  readonly confidentiality: readonly string[];
  readonly integrity: readonly string[];
  /** Labels of data that derives from nothing: the identity of join. */
  readonly neutral: Labels;
  private readonly confIndex: Map<string, number>;
  private readonly integIndex: Map<string, number>;

  constructor(
    confidentiality: readonly string[] = DEFAULT_CONFIDENTIALITY_LEVELS,
    integrity: readonly string[] = DEFAULT_INTEGRITY_LEVELS,
  ) {
    this.confidentiality = [...confidentiality];
    this.integrity = [...integrity];
    this.confIndex = new Map(this.confidentiality.map((name, i) => [name, i]));
    this.integIndex = new Map(this.integrity.map((name, i) => [name, i]));
    this.neutral = { confidentiality: 0, integrity: this.integrity.length - 1, tags: [], locations: [] };
  }

  confidentialityLevel(name: string): number | undefined {
    return this.confIndex.get(name);
  }

  integrityLevel(name: string): number | undefined {
    return this.integIndex.get(name);
  }

  /** Resolve a config label spec; levels left out take `fallback`'s. Unknown names throw. */
  fromSpec(spec: LabelSpec, fallback: Labels): Labels {
    const confidentiality =
      spec.confidentiality === undefined ? fallback.confidentiality : this.requireLevel('confidentiality', spec.confidentiality);
    const integrity = spec.integrity === undefined ? fallback.integrity : this.requireLevel('integrity', spec.integrity);
    return {
      confidentiality,
      integrity,
      tags: spec.tags ? sortedUnique(spec.tags) : fallback.tags,
      locations: spec.location !== undefined ? [spec.location] : fallback.locations,
    };
  }

  /** Parse readable labels (e.g. from verified baggage or the CLI); unknown levels are rejected. */
  fromPublic(labels: Partial<PublicLabels>, fallback: Labels): Labels {
    return {
      confidentiality:
        labels.confidentiality === undefined ? fallback.confidentiality : this.requireLevel('confidentiality', labels.confidentiality),
      integrity: labels.integrity === undefined ? fallback.integrity : this.requireLevel('integrity', labels.integrity),
      tags: labels.tags ? sortedUnique(labels.tags) : fallback.tags,
      locations: labels.locations ? sortedUnique(labels.locations) : fallback.locations,
    };
  }

  toPublic(labels: Labels): PublicLabels {
    return {
      confidentiality: this.confidentiality[labels.confidentiality] ?? String(labels.confidentiality),
      integrity: this.integrity[labels.integrity] ?? String(labels.integrity),
      tags: [...labels.tags],
      locations: [...labels.locations],
    };
  }

  /** Flattened form for span attributes and logs: `confidentiality=secret;integrity=high;tags=pii;locations=eu-west-1`. */
  format(labels: Labels): string {
    return formatPublicLabels(this.toPublic(labels));
  }

  private requireLevel(kind: 'confidentiality' | 'integrity', name: string): number {
    const level = kind === 'confidentiality' ? this.confIndex.get(name) : this.integIndex.get(name);
    if (level === undefined) {
      const known = kind === 'confidentiality' ? this.confidentiality : this.integrity;
      throw new RangeError(`unknown ${kind} level "${name}" (known: ${known.join(', ')})`);
    }
    return level;
  }
}

/** The flattened form spans (`provenant.labels`) and `provenant stats` share. */
export function formatPublicLabels(p: PublicLabels): string {
  return `confidentiality=${p.confidentiality};integrity=${p.integrity};tags=${p.tags.join(',')};locations=${p.locations.join(',')}`;
}

/** Join of data labels: confidentiality max, integrity min, tags and locations union. */
export function joinLabels(a: Labels, b: Labels): Labels {
  if (a === b) return a;
  const tags = unionSorted(a.tags, b.tags);
  const locations = unionSorted(a.locations, b.locations);
  const confidentiality = a.confidentiality >= b.confidentiality ? a.confidentiality : b.confidentiality;
  const integrity = a.integrity <= b.integrity ? a.integrity : b.integrity;
  if (confidentiality === a.confidentiality && integrity === a.integrity && tags === a.tags && locations === a.locations) return a;
  if (confidentiality === b.confidentiality && integrity === b.integrity && tags === b.tags && locations === b.locations) return b;
  return { confidentiality, integrity, tags, locations };
}

export function labelsKey(labels: Labels): string {
  return `${labels.confidentiality}/${labels.integrity}/${labels.tags.join(',')}/${labels.locations.join(',')}`;
}

export function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

/** Union of two sorted unique arrays; returns one of the inputs when it already holds the other. */
export function unionSorted(a: readonly string[], b: readonly string[]): readonly string[] {
  if (b.length === 0 || a === b) return a;
  if (a.length === 0) return b;
  // A context that reads N files one by one adds one source to a growing set each time: finding
  // the few places by binary search, not comparing every long URI, keeps each read cheap.
  if (b.length * SMALL_RATIO <= a.length) return insertSorted(a, b);
  if (a.length * SMALL_RATIO <= b.length) return insertSorted(b, a);
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i];
    const y = b[j];
    if (x === y) {
      out.push(x);
      i++;
      j++;
    } else if (x < y) {
      out.push(x);
      i++;
    } else {
      out.push(y);
      j++;
    }
  }
  while (i < a.length) out.push(a[i++]);
  while (j < b.length) out.push(b[j++]);
  if (out.length === a.length) return a;
  if (out.length === b.length) return b;
  return out;
}

const SMALL_RATIO = 16;

/** `large` ∪ `small` (both sorted, unique, `small` much shorter); `large` itself when it holds `small`. */
function insertSorted(large: readonly string[], small: readonly string[]): readonly string[] {
  const positions: number[] = [];
  const added: string[] = [];
  let low = 0;
  for (const value of small) {
    let high = large.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (large[middle] < value) low = middle + 1;
      else high = middle;
    }
    if (large[low] === value) continue;
    positions.push(low);
    added.push(value);
  }
  if (added.length === 0) return large;
  const out = new Array<string>(large.length + added.length);
  let from = 0;
  for (let k = 0; k < added.length; k++) {
    for (let i = from; i < positions[k]; i++) out[i + k] = large[i];
    out[positions[k] + k] = added[k];
    from = positions[k];
  }
  for (let i = from; i < large.length; i++) out[i + added.length] = large[i];
  return out;
}
