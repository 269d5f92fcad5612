/**
 * A store opened by its first use. A worker thread opens the node-local store only when one of
 * its flows needs it (SQLite's module and the database connection were ~1.3 ms of every worker's
 * start, for threads that often touch no file); failing to open falls back as at start
 * (sqlite-store.ts), with the same warning.
 */
import type { FileIdentity } from './file-identity.js';
import type { ProvenanceStore, StoredProvenance } from './store.js';

export class LazyProvenanceStore implements ProvenanceStore {
  private store: ProvenanceStore | undefined;

  constructor(private readonly open: () => ProvenanceStore) {}

  private opened(): ProvenanceStore {
    this.store ??= this.open();
    return this.store;
  }

  get(file: FileIdentity): StoredProvenance | undefined {
    return this.opened().get(file);
  }

  merge(file: FileIdentity, added: StoredProvenance): void {
    this.opened().merge(file, added);
  }

  move(from: string, to: string, replaced?: FileIdentity): void {
    this.opened().move(from, to, replaced);
  }

  retire(file: FileIdentity): void {
    this.opened().retire(file);
  }

  deferDurability<T>(fn: () => T): T {
    return this.opened().deferDurability(fn);
  }

  /** Nothing was committed before the store was opened: nothing to wait for. */
  durable(): Promise<void> | undefined {
    return this.store?.durable();
  }

  durableNow(): void {
    this.store?.durableNow();
  }

  /** Nothing waits in a store not yet opened. */
  uncommitted(file: FileIdentity): boolean {
    return this.store?.uncommitted(file) ?? false;
  }

  flush(): void {
    this.store?.flush();
  }

  close(): void {
    this.store?.close();
  }
}
