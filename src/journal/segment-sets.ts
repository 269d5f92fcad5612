/**
 * The writer's side of source-set interning: which sets the current segment has defined, and how
 * to define a new one cheaply. A new set is written as the closest recently used set it extends
 * plus what it adds, so a context that grows one source at a time costs O(1) bytes per source,
 * not O(N) per record. Known sets are found by a cheap signature and compared in full (the engine
 * hands each record its own copy of the list, so identity cannot be used). Every map is bounded:
 * a set that fell out of them is simply defined again. The maps keep a set from its second use (a
 * set used once, such as one user's file per request, would only survive scavenges to be evicted);
 * the last few sets are always kept as bases, so consecutive records of one context still share one.
 */
import { sourcesDigest } from '../provenance/sources-digest.js';
import { BoundedCache } from '../support/bounded-cache.js';
import type { SetDefinition } from './format.js';

interface Known {
  readonly sources: readonly string[];
  readonly seq: number;
}

/** A set to reference: the seq of its definition, or a definition still to be written. */
export type SetPlan = { seq: number } | { definition: SetDefinition };

/** Sets kept for lookup, in source references (an entry with one source costs ~400 bytes): a few MiB at most. */
const KNOWN_WEIGHT = 1 << 14;
const DIGESTS = 4096;
/** Recently used sets tried as bases for a new definition. */
const BASES = 4;

export class SegmentSets {
  private readonly bySignature = new BoundedCache<string, Known>(KNOWN_WEIGHT, (known) => 1 + known.sources.length, {
    admitRepeats: true,
  });
  private readonly byDigest = new BoundedCache<string, number>(DIGESTS, undefined, { admitRepeats: true });
  private recent: Known[] = [];

  /** How to reference `sources` (sorted, unique, non-empty) in this segment. Changes nothing until `remember`. */
  plan(sources: readonly string[]): SetPlan {
    const known = this.find(sources);
    if (known !== undefined) return { seq: known.seq };
    const digest = sourcesDigest(sources);
    const seq = this.byDigest.get(digest);
    if (seq !== undefined) return { seq };
    let base: Known | undefined;
    let add: readonly string[] = sources;
    for (const candidate of this.recent) {
      const added = candidate.sources.length < sources.length ? addedTo(candidate.sources, sources) : undefined;
      if (added !== undefined && added.length < add.length) {
        base = candidate;
        add = added;
      }
    }
    return { definition: { ...(base === undefined ? {} : { base: base.seq }), add, count: sources.length, digest } };
  }

  /** Records that `sources` is referenced by the definition at `seq` (a new one, or one `plan` found). */
  remember(sources: readonly string[], seq: number, digest?: string): void {
    // The common case, record after record of one context: nothing changes.
    if (digest === undefined && this.recent[0]?.seq === seq) return;
    const known = { sources, seq };
    this.bySignature.set(signature(sources), known);
    if (digest !== undefined) this.byDigest.set(digest, seq);
    this.recent = [known, ...this.recent.filter((other) => other.seq !== seq)].slice(0, BASES);
  }

  private find(sources: readonly string[]): Known | undefined {
    for (const known of this.recent) if (sameList(known.sources, sources)) return known;
    const known = this.bySignature.get(signature(sources));
    return known !== undefined && sameList(known.sources, sources) ? known : undefined;
  }
}

/** Count, first and last source: equal sets share it, and most different sets do not. */
function signature(sources: readonly string[]): string {
  return `${sources.length}\n${sources[0]}\n${sources[sources.length - 1]}`;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The sources of `set` not in `base` (both sorted), or undefined when `base` is not a subset of `set`. */
function addedTo(base: readonly string[], set: readonly string[]): string[] | undefined {
  const added: string[] = [];
  let i = 0;
  for (const source of set) {
    if (i < base.length && base[i] === source) i++;
    else if (i < base.length && base[i] < source) return undefined;
    else added.push(source);
  }
  return i === base.length ? added : undefined;
}
