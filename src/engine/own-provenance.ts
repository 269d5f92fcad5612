/**
 * A resource's own provenance: what it brings into a context when read, namely what it carries
 * (stored file provenance, verified baggage) plus itself with its configured labels. Memoised per
 * resource, since the same peer or file is read again and again. Data vouched for by a verified
 * claim carries the claim's labels only: the peer's configured labels say what it may receive and
 * what its unclaimed data carries, not how to re-label what it signed (README "Trust in a peer").
 */
import type { Labels } from '../provenance/labels.js';
import type { ProvenanceSet, ProvenanceSets } from '../provenance/provenance-set.js';
import type { Resource } from '../provenance/resource.js';
import type { CompiledPolicy } from '../policy/types.js';
import { BoundedCache } from '../support/bounded-cache.js';

/** Weighed in source references, an entry counting as 16 (see ProvenanceSets' memos). */
const MEMO_WEIGHT_LIMIT = 16 * 4096;

interface Memo {
  readonly incoming: ProvenanceSet;
  readonly labels: Labels;
  readonly vouched: boolean;
  readonly result: ProvenanceSet;
}

export class OwnProvenance {
  private readonly memo = new BoundedCache<number, Memo>(
    MEMO_WEIGHT_LIMIT,
    (memo) => 16 + memo.incoming.sources.length + memo.result.sources.length,
    { admitRepeats: true },
  );

  constructor(private readonly sets: ProvenanceSets) {}

  /** `incoming` plus `resource` itself, labelled as `policy` labels it. */
  of(resource: Resource, incoming: ProvenanceSet, policy: CompiledPolicy, vouched = false): ProvenanceSet {
    const labels = policy.labelsOf(resource);
    const memo = this.memo.get(resource.id);
    if (memo !== undefined && memo.incoming === incoming && memo.labels === labels && memo.vouched === vouched) return memo.result;
    // Vouched: the peer is a source (lineage, revocation, its location) but adds no level or tag.
    const own = vouched ? { ...policy.schema.neutral, locations: labels.locations } : labels;
    const result = this.sets.withSource(incoming, resource.uri, own);
    this.memo.set(resource.id, { incoming, labels, vouched, result });
    return result;
  }

  /** The resource itself with its configured labels, or undefined when those are the defaults. */
  ifLabelled(resource: Resource, policy: CompiledPolicy): ProvenanceSet | undefined {
    const labels = policy.labelsOf(resource);
    const defaults = policy.defaults;
    const labelled =
      labels.confidentiality !== defaults.confidentiality || labels.integrity !== defaults.integrity || labels.tags.length > 0;
    return labelled ? this.of(resource, this.sets.empty, policy) : undefined;
  }
}
