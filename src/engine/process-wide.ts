/**
 * Everything any context of this process has read, as far as a dump of the whole process (a heap
 * snapshot, a diagnostic report) is concerned: the join of every label read, and the sources —
 * at most SOURCE_LIMIT of them, because a server reads from a new peer per connection and an
 * unbounded union would grow with every one. Labels are never dropped, so a dump is judged at
 * least as sensitive as anything the process read; past the limit, rules on `data.sources` and
 * revocation see only the first sources.
 */
import { joinLabels, type Labels } from '../provenance/labels.js';
import type { ProvenanceSet, ProvenanceSets } from '../provenance/provenance-set.js';

const SOURCE_LIMIT = 1024;

export class ProcessWide {
  private labels: Labels;
  private readonly sources = new Set<string>();
  private cached: ProvenanceSet | undefined;

  constructor(private readonly sets: ProvenanceSets) {
    this.labels = sets.empty.labels;
  }

  /** A read brought `set` into some context. */
  note(set: ProvenanceSet): void {
    const labels = joinLabels(this.labels, set.labels);
    let changed = labels !== this.labels;
    this.labels = labels;
    for (const source of set.sources) {
      if (this.sources.size >= SOURCE_LIMIT) break;
      if (this.sources.has(source)) continue;
      this.sources.add(source);
      changed = true;
    }
    if (changed) this.cached = undefined;
  }

  /** What a dump of the process holds now. */
  data(): ProvenanceSet {
    return (this.cached ??= this.sets.of(this.sources, this.labels));
  }
}
