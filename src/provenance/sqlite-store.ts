/**
 * The node-local provenance store: `<stateDir>/provenance.db`, SQLite through `node:sqlite` in
 * WAL mode, shared by every instrumented process on the node and kept across restarts.
 *
 * - `get` is on the read hot path: answers come from a per-identity cache, which other
 *   processes' commits invalidate (other-writers.ts).
 * - `merge` is one short `BEGIN IMMEDIATE` transaction (read, union, write), committed and
 *   synced before it returns, except inside `deferDurability` (an asynchronous fs API), where it
 *   waits in memory (pending-merges.ts, joined into every `get`) for `durable()`, which commits
 *   every pending merge in one transaction after the caller's synchronous run and fsyncs on
 *   libuv's pool (deferred-sync.ts). Any other change commits what is pending first, so nothing
 *   this process decided is overtaken. Concurrent writers serialise on SQLite's write lock and
 *   lose nothing. A merge that adds nothing writes nothing.
 * - A record names an interned set (stored-sets.ts), kept as a delta from a set it contains:
 *   the file's previous set, or the last set this store wrote.
 * - A corrupt database is moved aside and rebuilt with a warning; if SQLite is unusable the
 *   store falls back to memory with a warning. Nothing here crashes the app.
 */
import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { diag } from '@opentelemetry/api';
import { BoundedCache } from '../support/bounded-cache.js';
import { internally } from '../support/reentrancy.js';
import { LabelSchema } from './labels.js';
import { MemoryProvenanceStore } from './memory-store.js';
import type { FileIdentity } from './file-identity.js';
import { recordKey, type ProvenanceStore, type StoredProvenance } from './store.js';
import { Connection, isCorruption, loadSqlite, type Sqlite } from './sqlite-connection.js';
import { DeferredSync } from './deferred-sync.js';
import { FileRecords } from './file-records.js';
import { OtherWriters } from './other-writers.js';
import { PendingMerges, type PendingMerge } from './pending-merges.js';
import { joinStored } from './stored-provenance.js';

export const PROVENANCE_DB_FILE = 'provenance.db';
const BUSY_TIMEOUT_MS = 10_000;
/** Weighed in source references, an entry counting as 16: 4,096 small answers, fewer large ones. */
const CACHE_WEIGHT_LIMIT = 16 * 4096;

export function openProvenanceStore(stateDir: string, schema: LabelSchema = new LabelSchema()): ProvenanceStore {
  const sqlite = loadSqlite();
  if (sqlite) {
    try {
      internally(() => mkdirSync(stateDir, { recursive: true }));
      return new SqliteProvenanceStore(sqlite, join(stateDir, PROVENANCE_DB_FILE), schema);
    } catch (error) {
      diag.warn(
        `provenant: the provenance store in ${stateDir} cannot be opened; file provenance is kept in memory for this process only`,
        error,
      );
    }
  } else {
    diag.warn('provenant: node:sqlite is not available; file provenance is kept in memory for this process only');
  }
  return new MemoryProvenanceStore(schema);
}

export class SqliteProvenanceStore implements ProvenanceStore {
  /** Per-identity answers (FileIdentity.key); `null` caches "no provenance recorded". */
  private readonly cache = new BoundedCache<string, StoredProvenance | null>(
    CACHE_WEIGHT_LIMIT,
    (answer) => 16 + (answer?.sources.length ?? 0),
    { admitRepeats: true },
  );
  private readonly records = new FileRecords(CACHE_WEIGHT_LIMIT);
  private readonly syncs = new DeferredSync(
    () => this.conn().syncTarget(),
    () => this.commitPending(),
  );
  private readonly pending: PendingMerges;
  /** Answers that include a path record still to be folded into the inode's. */
  private readonly pathPending = new WeakSet<StoredProvenance>();
  private connection: Connection | undefined;
  private readonly otherWriters = new OtherWriters(
    () => this.recover(() => (this.conn().dataVersion.get() as unknown as [number])[0]),
    () => this.cache.clear(),
  );
  /** Inode of the database file this store opened, so a rebuild never moves another process's fresh one. */
  private openedInode: number | undefined;

  constructor(
    private readonly sqlite: Sqlite,
    readonly file: string,
    private readonly schema: LabelSchema,
  ) {
    this.pending = new PendingMerges(schema);
    this.connection = this.open();
  }

  get(file: FileIdentity): StoredProvenance | undefined {
    const stored = this.committed(file);
    return this.pending.size === 0 ? stored : this.pending.over(file, stored);
  }

  merge(file: FileIdentity, added: StoredProvenance): void {
    if (this.syncs.deferring) {
      // Not compared with the cache, which may miss another process's removal: the commit re-reads.
      this.pending.add(file, added);
      this.syncs.pending();
      return;
    }
    this.otherWriters.notice();
    const current = this.get(file);
    if (current !== undefined && !this.pathPending.has(current) && joinStored(this.schema, current, added) === current) return;
    this.commitPending();
    this.commitMerges([{ file, added }]);
  }

  uncommitted(file: FileIdentity): boolean {
    return this.pending.size > 0 && this.pending.has(file);
  }

  flush(): void {
    if (this.pending.size === 0) return;
    if (this.syncs.deferring) this.syncs.pending();
    else this.commitPending();
  }

  move(from: string, to: string, replaced?: FileIdentity): void {
    this.changeTree((conn) => {
      if (replaced !== undefined) this.deleteRecords(conn, replaced);
      conn.deleteTree.run({ path: to });
      conn.moveTree.run({ path: from, to, now: Date.now() });
    });
  }

  /**
   * Committed but not synced: a retire only takes provenance away, so losing it to a crash leaves
   * stale, more restrictive provenance (never a false allow), and the next synced commit covers it.
   * A removal of many files (a test's temp folder, `rm -r`) no longer costs an fsync each.
   */
  retire(file: FileIdentity): void {
    this.changeTree((conn) => this.deleteRecords(conn, file), false);
  }

  /** A file's path records, and its inode's record unless another name still holds the inode. */
  private deleteRecords(conn: Connection, file: FileIdentity): void {
    conn.deleteTree.run({ path: file.path });
    if (file.inode !== undefined && file.links <= 1) conn.deleteOne.run(recordKey(file));
  }

  deferDurability<T>(fn: () => T): T {
    return this.syncs.defer(fn);
  }

  durable(): Promise<void> | undefined {
    return this.syncs.durable();
  }

  durableNow(): void {
    // Merges an asynchronous call left pending first: they are part of "every commit so far".
    this.commitPending();
    this.syncs.settleNow();
  }

  close(): void {
    this.cache.clear();
    const conn = this.connection;
    this.connection = undefined;
    conn?.close();
  }

  /** What the database holds for the file (cached), without what is pending. */
  private committed(file: FileIdentity): StoredProvenance | undefined {
    let cached = this.cache.get(file.key);
    // Only a cached answer can be stale: a file met for the first time (every new file) is read fresh.
    if (cached !== undefined) {
      this.otherWriters.beforeCachedAnswer();
      cached = this.cache.get(file.key);
    }
    if (cached === undefined) {
      cached = this.recover(() => this.loadFile(this.conn(), file)) ?? null;
      this.cache.set(file.key, cached);
    }
    return cached ?? undefined;
  }

  /** Commit the pending merges (throws, and keeps them pending, when that fails). */
  private commitPending(): void {
    if (this.pending.size === 0) return;
    const merges = this.pending.all();
    this.commitMerges(merges);
    this.pending.committed(merges);
  }

  /** The merges, in one transaction: each re-read under the write lock (another process may have merged since). */
  private commitMerges(merges: readonly PendingMerge[]): void {
    this.otherWriters.notice();
    this.recover(() => {
      const conn = this.conn();
      const { changed, results } = this.records.merge(conn, this.schema, merges);
      if (changed) this.syncs.committed(() => conn.sync());
      merges.forEach(({ file }, i) => {
        // Another name of the same inode has its own cached answer.
        if (file.links > 1) this.cache.clear();
        else this.cache.set(file.key, results[i] ?? null);
      });
    });
  }

  private changeTree(change: (conn: Connection) => void, synced = true): void {
    this.commitPending();
    this.recover(() => {
      const conn = this.conn();
      if (conn.write(() => change(conn)) && synced) this.syncs.committed(() => conn.sync());
    });
    this.cache.clear();
  }

  /**
   * The inode's record joined with what waited under the real path before the file existed. Read
   * only: the next merge into the file folds the path record into the inode's (`pathPending`).
   */
  private loadFile(conn: Connection, file: FileIdentity): StoredProvenance | undefined {
    const byPath = this.records.load(conn, file.path);
    if (file.inode === undefined) return byPath;
    const byInode = this.records.load(conn, recordKey(file));
    if (byPath === undefined) return byInode;
    const joined = joinStored(this.schema, byInode, byPath);
    this.pathPending.add(joined);
    return joined;
  }

  /** The open connection; reopened on demand after close() (e.g. I/O in a late exit handler). */
  private conn(): Connection {
    return (this.connection ??= this.open());
  }

  /** Run a database operation; a corrupt database is rebuilt once and the operation retried. */
  private recover<T>(operation: () => T): T {
    try {
      return operation();
    } catch (error) {
      if (!isCorruption(error)) throw error;
      this.close();
      this.moveAside(error);
      this.connection = this.openFresh();
      return operation();
    }
  }

  private open(): Connection {
    try {
      return this.openFresh();
    } catch (error) {
      if (!isCorruption(error)) throw error;
      this.moveAside(error);
      return this.openFresh();
    }
  }

  private openFresh(): Connection {
    this.otherWriters.reset();
    this.records.forgetSets();
    const db = new this.sqlite.DatabaseSync(this.file, { timeout: BUSY_TIMEOUT_MS });
    this.openedInode = internally(() => statSync(this.file, { throwIfNoEntry: false })?.ino);
    try {
      return new Connection(db, this.file);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Keep the corrupt file for inspection and start an empty store in its place. */
  private moveAside(cause: unknown): void {
    const aside = `${this.file}.corrupt-${Date.now()}-${process.pid}`;
    internally(() => {
      // Another process may have rebuilt it already: only move the file we found corrupt.
      if (statSync(this.file, { throwIfNoEntry: false })?.ino !== this.openedInode) return;
      renameSync(this.file, aside);
      rmSync(`${this.file}-wal`, { force: true });
      rmSync(`${this.file}-shm`, { force: true });
      diag.warn(`provenant: the provenance store ${this.file} is corrupt; moved to ${aside} and rebuilt empty`, cause);
    });
  }
}
