/**
 * SQLite access for the node-local store: loading `node:sqlite` quietly, one connection with the
 * schema (and its migrations) and its prepared statements, the write transaction and the fsync
 * that makes it durable, and telling corruption apart from other errors.
 */
import { closeSync, fdatasyncSync, openSync } from 'node:fs';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { internally } from '../support/reentrancy.js';
import { migrateRecordsToSets } from './set-migration.js';
import { SetTable } from './stored-sets.js';

export type Sqlite = typeof import('node:sqlite');

// SQLite primary result codes that mean "this file is not a usable database".
const SQLITE_CORRUPT = 11;
const SQLITE_NOTADB = 26;

/** `require('node:sqlite')` without its ExperimentalWarning reaching the app's stderr. */
export function loadSqlite(): Sqlite | undefined {
  // Restored as the very same function afterwards, so it is kept unbound.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const emitWarning = process.emitWarning;
  process.emitWarning = function filterSqliteWarning(this: NodeJS.Process, warning: string | Error, ...rest: unknown[]): void {
    if (String(warning).includes('SQLite')) return;
    (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  };
  try {
    // Loaded lazily and guarded: a runtime without node:sqlite falls back to the memory store.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('node:sqlite') as Sqlite;
  } catch {
    return undefined;
  } finally {
    process.emitWarning = emitWarning;
  }
}

/** A file's row: which interned set it holds, plus what is the file's own. */
export interface FileRow {
  set_id: number;
  write_span: string | null;
  names: string | null;
}

/**
 * 1: rows keyed by path as written. 2: rows keyed by inode (`inode:<dev>:<ino>`) or real path,
 * plus `names`. 3: each row names an interned provenance set (`provenance_sets`), stored as the
 * sources it adds to a parent set: one context touching N files stores O(N), not O(N²).
 */
export const SCHEMA_VERSION = 3;

/** One open connection with its prepared statements. */
export class Connection {
  readonly selectFile: StatementSync;
  readonly upsertFile: StatementSync;
  readonly sets: SetTable;
  readonly dataVersion: StatementSync;
  readonly deleteTree: StatementSync;
  readonly moveTree: StatementSync;
  readonly deleteOne: StatementSync;
  /** In WAL mode a commit is durable once the WAL file is; otherwise SQLite syncs every commit itself. */
  readonly wal: boolean;
  private readonly totalChanges: StatementSync;
  private walFd: number | undefined;

  constructor(
    readonly db: DatabaseSync,
    private readonly file: string,
  ) {
    this.wal = (db.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode: string }).journal_mode === 'wal';
    // NORMAL in WAL mode: a commit is in the WAL (it survives the process being killed) without an
    // fsync; `sync`/`syncLater` make it survive power loss too, on the caller's thread or on libuv's
    // pool. Without WAL, FULL: every commit is synced by SQLite itself.
    db.exec(this.wal ? 'PRAGMA synchronous = NORMAL' : 'PRAGMA synchronous = FULL');
    this.totalChanges = db.prepare('SELECT total_changes()');
    this.totalChanges.setReturnArrays(true);
    this.migrate();
    // `path` itself or anything under it: the range keeps the primary-key index usable ('0' follows '/').
    const tree = `(path = $path OR (path > $path || '/' AND path < $path || '0'))`;
    this.selectFile = db.prepare('SELECT set_id, write_span, names FROM file_records WHERE path = ?');
    this.upsertFile = db.prepare(`INSERT INTO file_records (path, set_id, write_span, names, updated_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (path) DO UPDATE SET set_id = excluded.set_id, write_span = excluded.write_span,
      names = excluded.names, updated_at = excluded.updated_at`);
    this.sets = new SetTable(db);
    this.dataVersion = db.prepare('PRAGMA data_version');
    this.dataVersion.setReturnArrays(true);
    this.deleteTree = db.prepare(`DELETE FROM file_records WHERE ${tree}`);
    this.moveTree = db.prepare(`UPDATE file_records SET path = $to || substr(path, length($path) + 1), updated_at = $now WHERE ${tree}`);
    this.deleteOne = db.prepare('DELETE FROM file_records WHERE path = ?');
  }

  /**
   * Create the tables, or bring an older schema to 3: every record of schema 1 or 2 (its own
   * source list) becomes a row naming its interned set, in one transaction. Every process on the
   * node may open the database at once, hence the write lock around the check.
   */
  private migrate(): void {
    const version = (): number => (this.db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
    if (version() >= SCHEMA_VERSION) return;
    this.write(() => {
      if (version() >= SCHEMA_VERSION) return;
      this.db.exec(`CREATE TABLE IF NOT EXISTS provenance_sets (
        id INTEGER PRIMARY KEY,
        digest BLOB NOT NULL UNIQUE,
        parent INTEGER,
        added TEXT NOT NULL,
        labels TEXT NOT NULL
      )`);
      this.db.exec(`CREATE TABLE IF NOT EXISTS file_records (
        path TEXT PRIMARY KEY,
        set_id INTEGER NOT NULL,
        write_span TEXT,
        names TEXT,
        updated_at INTEGER NOT NULL
      ) WITHOUT ROWID`);
      migrateRecordsToSets(this.db);
      this.db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    });
  }

  /** Run `fn` in one write transaction, committed (not yet synced, see `sync`) before returning; true when it changed something. */
  write(fn: () => void): boolean {
    const before = this.changes();
    this.db.exec('BEGIN IMMEDIATE');
    try {
      fn();
      this.db.exec('COMMIT');
    } catch (error) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw error;
    }
    return this.changes() !== before;
  }

  /** Make every commit so far durable, on this thread (what `synchronous = FULL` would have done at commit). */
  sync(): void {
    if (this.wal) fdatasyncSync(this.walDescriptor());
  }

  /** The WAL file's descriptor for an fsync elsewhere (libuv's pool); undefined when commits are synced by SQLite. */
  syncTarget(): number | undefined {
    return this.wal ? this.walDescriptor() : undefined;
  }

  close(): void {
    if (this.walFd !== undefined) internally(() => closeSync(this.walFd as number));
    this.walFd = undefined;
    if (this.db.isOpen) this.db.close();
  }

  /**
   * The WAL exists from the first commit on and, while this connection is open, is never removed
   * (SQLite deletes it only when the last connection closes), so one descriptor serves for good.
   */
  private walDescriptor(): number {
    return (this.walFd ??= internally(() => openSync(`${this.file}-wal`, 'r')));
  }

  private changes(): number {
    return (this.totalChanges.get() as unknown as [number])[0];
  }
}

export function isCorruption(error: unknown): boolean {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  if (typeof code !== 'number') return false;
  const primary = code & 0xff;
  return primary === SQLITE_CORRUPT || primary === SQLITE_NOTADB;
}
