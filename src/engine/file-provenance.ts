/**
 * The engine's bridge to the node-local store: the provenance a file carries (as an interned set),
 * and what a write, copy, move or delete changes in it. Only files have stored provenance; any
 * other resource carries just its own URI and labels.
 */
import type { SpanContext } from '@opentelemetry/api';
import type { LabelSchema } from '../provenance/labels.js';
import type { ProvenanceSet, ProvenanceSets } from '../provenance/provenance-set.js';
import type { Resource } from '../provenance/resource.js';
import type { ProvenanceStore, StoredProvenance } from '../provenance/store.js';
import { BoundedCache } from '../support/bounded-cache.js';

/** Files whose last merged set this process remembers (a forgotten one is merely merged again). */
const MERGED_CAPACITY = 65_536;

export interface FileState {
  readonly provenance: ProvenanceSet;
  /** Span of the write that produced the file's content, when one was recorded. */
  readonly writeSpan: SpanContext | undefined;
}

export class FileProvenance {
  private readonly storedSets = new WeakMap<StoredProvenance, ProvenanceSet>();
  /** Per file resource id: the provenance set id last merged into the store by this process. */
  private readonly merged = new BoundedCache<number, number>(MERGED_CAPACITY);
  private readonly none: FileState;

  constructor(
    private readonly sets: ProvenanceSets,
    private readonly schema: LabelSchema,
    private readonly store: ProvenanceStore | undefined,
  ) {
    this.none = { provenance: sets.empty, writeSpan: undefined };
  }

  /** What the store holds for `resource` (empty for anything but a recorded file). */
  stateOf(resource: Resource): FileState {
    if (resource.kind !== 'file' || !this.store) return this.none;
    const stored = this.store.get(resource.path as string);
    return stored ? { provenance: this.fromStored(stored), writeSpan: stored.writeSpan } : this.none;
  }

  provenanceOf(resource: Resource): ProvenanceSet {
    return this.stateOf(resource).provenance;
  }

  /** An allowed write: the file's provenance gains `data` (durable before this returns). */
  persist(resource: Resource, data: ProvenanceSet, writeSpan: SpanContext | undefined): void {
    const store = this.store;
    if (!store || resource.kind !== 'file' || data.id === 0) return;
    if (this.merged.get(resource.id) === data.id) return;
    store.merge(resource.path as string, this.toStored(data, writeSpan));
    this.merged.set(resource.id, data.id);
  }

  /** An allowed copy or move: the destination gets the source's provenance, plus `data` when that adds to it. */
  transfer(op: 'copy' | 'move', source: Resource, destination: Resource, data: ProvenanceSet): void {
    const store = this.store;
    if (!store) return;
    const from = source.path as string;
    const to = destination.path as string;
    if (op === 'move') store.move(from, to);
    else store.copy(from, to);
    if (this.provenanceOf(destination).id !== data.id) store.merge(to, this.toStored(data, undefined));
    this.merged.delete(destination.id);
    this.merged.delete(source.id);
  }

  /** unlink / rm: true when the file had provenance, which is now retired. */
  retire(resource: Resource): boolean {
    this.merged.delete(resource.id);
    const path = resource.path as string;
    if (this.store?.get(path) === undefined) return false;
    this.store.retire(path);
    return true;
  }

  private fromStored(stored: StoredProvenance): ProvenanceSet {
    let set = this.storedSets.get(stored);
    if (set === undefined) {
      set = this.sets.of(stored.sources, this.schema.fromPublic(stored.labels, this.schema.neutral));
      this.storedSets.set(stored, set);
    }
    return set;
  }

  private toStored(data: ProvenanceSet, writeSpan: SpanContext | undefined): StoredProvenance {
    const stored: StoredProvenance = { sources: [...data.sources], labels: this.schema.toPublic(data.labels) };
    if (writeSpan) stored.writeSpan = writeSpan;
    return stored;
  }
}
