/**
 * In-memory provenance store: the fallback when SQLite cannot be used at all. Provenance then
 * lives only as long as the process and is not shared with other processes (a warning says so).
 */
import type { LabelSchema } from './labels.js';
import type { ProvenanceStore, StoredProvenance } from './store.js';
import { isSameOrUnder, joinStored } from './stored-provenance.js';

export class MemoryProvenanceStore implements ProvenanceStore {
  private readonly files = new Map<string, StoredProvenance>();

  constructor(private readonly schema: LabelSchema) {}

  get(path: string): StoredProvenance | undefined {
    return this.files.get(path);
  }

  merge(path: string, added: StoredProvenance): void {
    const stored = this.files.get(path);
    const joined = joinStored(this.schema, stored, added);
    if (joined !== stored) this.files.set(path, joined);
  }

  move(from: string, to: string): void {
    const moved = this.take(from);
    this.retire(to);
    for (const [path, value] of moved) this.files.set(to + path.slice(from.length), value);
  }

  copy(from: string, to: string): void {
    const copied = [...this.files].filter(([path]) => isSameOrUnder(path, from));
    if (!this.files.has(from)) this.files.delete(to);
    for (const [path, value] of copied) this.files.set(to + path.slice(from.length), value);
  }

  retire(path: string): void {
    this.take(path);
  }

  close(): void {}

  private take(path: string): [string, StoredProvenance][] {
    const taken = [...this.files].filter(([candidate]) => isSameOrUnder(candidate, path));
    for (const [candidate] of taken) this.files.delete(candidate);
    return taken;
  }
}
