/**
 * In-memory provenance store: the fallback when SQLite cannot be used at all, and the place the
 * engine keeps provenance the node-local store could not persist. It lives only as long as the
 * process and is not shared with other processes (a warning says so).
 */
import type { FileIdentity } from './file-identity.js';
import type { LabelSchema } from './labels.js';
import { recordKey, type ProvenanceStore, type StoredProvenance } from './store.js';
import { isSameOrUnder, joinStored } from './stored-provenance.js';

export class MemoryProvenanceStore implements ProvenanceStore {
  private readonly records = new Map<string, StoredProvenance>();

  constructor(private readonly schema: LabelSchema) {}

  get size(): number {
    return this.records.size;
  }

  get(file: FileIdentity): StoredProvenance | undefined {
    const byPath = this.records.get(file.path);
    if (file.inode === undefined) return byPath;
    const byInode = this.records.get(recordKey(file));
    return byPath === undefined ? byInode : joinStored(this.schema, byInode, byPath);
  }

  merge(file: FileIdentity, added: StoredProvenance): void {
    const key = recordKey(file);
    const stored = this.records.get(key);
    const joined = joinStored(this.schema, stored, added);
    if (joined !== stored) this.records.set(key, joined);
  }

  move(from: string, to: string, replaced?: FileIdentity): void {
    if (replaced !== undefined) this.retire(replaced);
    const moved = this.take(from);
    this.take(to);
    for (const [path, value] of moved) this.records.set(to + path.slice(from.length), value);
  }

  retire(file: FileIdentity): void {
    this.take(file.path);
    if (file.inode !== undefined && file.links <= 1) this.records.delete(recordKey(file));
  }

  deferDurability<T>(fn: () => T): T {
    return fn();
  }

  durable(): undefined {
    return undefined;
  }

  durableNow(): void {}

  uncommitted(): boolean {
    return false;
  }

  flush(): void {}

  close(): void {}

  private take(path: string): [string, StoredProvenance][] {
    const taken = [...this.records].filter(([candidate]) => isSameOrUnder(candidate, path));
    for (const [candidate] of taken) this.records.delete(candidate);
    return taken;
  }
}
