/**
 * Merges an asynchronous fs API decided but the store has not committed yet: they are committed
 * together once the caller's synchronous run is over (deferred-sync.ts), before the write's bytes
 * move. Until then every lookup in this process joins them in, so nothing here reads a file as
 * less labelled than a decision already made it. A commit that fails leaves them here: the process
 * keeps the labels, and the writes that relied on them fail.
 */
import type { FileIdentity } from './file-identity.js';
import type { LabelSchema } from './labels.js';
import { recordKey, type StoredProvenance } from './store.js';
import { joinStored } from './stored-provenance.js';

export interface PendingMerge {
  readonly file: FileIdentity;
  readonly added: StoredProvenance;
}

export class PendingMerges {
  /** By record key (an inode, or the real path of a file not created yet). */
  private readonly merges = new Map<string, PendingMerge>();

  constructor(private readonly schema: LabelSchema) {}

  get size(): number {
    return this.merges.size;
  }

  add(file: FileIdentity, added: StoredProvenance): void {
    const key = recordKey(file);
    const waiting = this.merges.get(key);
    this.merges.set(key, { file: waiting?.file ?? file, added: joinStored(this.schema, waiting?.added, added) });
  }

  /** Something waits for the file, under its path or its inode. */
  has(file: FileIdentity): boolean {
    return this.merges.has(file.path) || (file.inode !== undefined && this.merges.has(recordKey(file)));
  }

  /** `stored` with what waits for the file: under its path (written before it existed) and under its inode. */
  over(file: FileIdentity, stored: StoredProvenance | undefined): StoredProvenance | undefined {
    let result = stored;
    const byPath = this.merges.get(file.path);
    if (byPath !== undefined) result = joinStored(this.schema, result, byPath.added);
    const byInode = file.inode === undefined ? undefined : this.merges.get(recordKey(file));
    if (byInode !== undefined) result = joinStored(this.schema, result, byInode.added);
    return result;
  }

  /** The merges waiting now, in the order they were decided. */
  all(): PendingMerge[] {
    return [...this.merges.values()];
  }

  /** `merges` are committed: forget them (unless the same file gained more meanwhile). */
  committed(merges: readonly PendingMerge[]): void {
    for (const merge of merges) {
      const key = recordKey(merge.file);
      if (this.merges.get(key) === merge) this.merges.delete(key);
    }
  }
}
