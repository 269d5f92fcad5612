/**
 * Interface of the node-local provenance store (files' provenance, shared by every instrumented
 * process on the node and kept across restarts). The SQLite implementation lives in
 * sqlite-store.ts; the engine only uses this interface.
 *
 * Files are keyed by identity (file-identity.ts): an existing file's provenance lives under its
 * (device, inode), so every name of it shares one record; provenance saved before a file exists
 * (a write is decided before it creates the file) waits under its real path: once the file
 * exists, reads join it to the inode's record and the next merge folds it in. Records of schema
 * 1, keyed by path, are read the same way.
 */
import type { SpanContext } from '@opentelemetry/api';
import type { FileIdentity } from './file-identity.js';
import type { PublicLabels } from './labels.js';

export interface StoredProvenance {
  /** Source URIs the file's content derives from. */
  sources: string[];
  /** Derived labels of the file's content (not the file's configured labels). */
  labels: PublicLabels;
  /** Span of the write that last changed the provenance, so a later read can link back to it. */
  writeSpan?: SpanContext;
  /** Real paths the inode is known by when it has several hard links: a write to one is a write to all. */
  names?: string[];
}

export interface ProvenanceStore {
  /** Current provenance of a file, or undefined when none is recorded. */
  get(file: FileIdentity): StoredProvenance | undefined;
  /**
   * Union `added` into the file's provenance; committed and durable before it returns (throws
   * when it cannot be), except inside `deferDurability`: then `get` answers with it at once and
   * `durable()` commits it.
   */
  merge(file: FileIdentity, added: StoredProvenance): void;
  /**
   * rename: what waits under `from`'s path (and under it, for a directory) moves to `to`; inode
   * records move by themselves. `replaced`: the file `to` named before, whose content is gone.
   */
  move(from: string, to: string, replaced?: FileIdentity): void;
  /**
   * unlink/rm, or replaced content: the file's provenance is retired (its inode's too, unless other
   * names remain); committed, not necessarily synced (taking provenance away fails safe).
   */
  retire(file: FileIdentity): void;
  /**
   * Run `fn` (an asynchronous API's decision) without waiting for SQLite or the disk: its merges
   * are committed and synced by `durable()`, which the API waits for before it moves a byte.
   */
  deferDurability<T>(fn: () => T): T;
  /**
   * Settles once every merge so far is committed and on disk (rejects when it cannot be);
   * undefined when none waits.
   */
  durable(): Promise<void> | undefined;
  /** Every commit so far on disk now, on this thread (throws when it cannot be). */
  durableNow(): void;
  /** True while a merge into `file` made inside `deferDurability` waits for `durable()` to commit it. */
  uncommitted(file: FileIdentity): boolean;
  /** Commit what waits now (synced, outside `deferDurability`), or have the next `durable()` do it (inside). */
  flush(): void;
  close(): void;
}

/** The record key of a file: its inode once it exists, else its real path. */
export function recordKey(file: FileIdentity): string {
  return file.inode === undefined ? file.path : `inode:${file.inode}`;
}
