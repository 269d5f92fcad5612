/**
 * The node-local provenance store: `<stateDir>/provenance.db`, SQLite through `node:sqlite` in
 * WAL mode, shared by every instrumented process on the node and kept across restarts.
 *
 * - `get` is on the read hot path: answers come from a per-path cache. Another process's
 *   commit is noticed through `PRAGMA data_version`, which costs 2–8 µs (it takes SQLite's
 *   read lock), so it is not asked per call: at most once per millisecond, looked at on the
 *   first `get` of each macrotask and every few hundred `get`s within one. A reader therefore
 *   sees another process's commit from about a millisecond after it on (a process learns of
 *   another's write through some I/O, which arrives in a new macrotask).
 * - `merge` is one short `BEGIN IMMEDIATE` transaction (read, union, write), committed before
 *   it returns; concurrent writers serialise on SQLite's write lock and lose nothing. A merge
 *   that adds nothing writes nothing.
 * - A corrupt database is moved aside and rebuilt with a warning; if SQLite is unusable the
 *   store falls back to memory with a warning. Nothing here crashes the app.
 */
import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { diag } from '@opentelemetry/api';
import { BoundedCache } from '../support/bounded-cache.js';
import { internally } from '../support/reentrancy.js';
import { LabelSchema, type PublicLabels } from './labels.js';
import { MemoryProvenanceStore } from './memory-store.js';
import type { ProvenanceStore, StoredProvenance } from './store.js';
import { decodeSpan, encodeSpan, joinStored } from './stored-provenance.js';

type Sqlite = typeof import('node:sqlite');

export const PROVENANCE_DB_FILE = 'provenance.db';
const BUSY_TIMEOUT_MS = 10_000;
const CACHE_LIMIT = 16_384;
/** Other processes' commits are looked for at most this often… */
const FRESHNESS_INTERVAL_MS = 1;
/** …and, within one long synchronous stretch, every this many `get`s. */
const GETS_PER_FRESHNESS_CHECK = 256;
// SQLite primary result codes that mean "this file is not a usable database".
const SQLITE_CORRUPT = 11;
const SQLITE_NOTADB = 26;

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

/** `require('node:sqlite')` without its ExperimentalWarning reaching the app's stderr. */
function loadSqlite(): Sqlite | undefined {
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

interface Row {
  sources: string;
  labels: string;
  write_span: string | null;
}

/** One open connection with its prepared statements. */
class Connection {
  readonly select: StatementSync;
  readonly upsert: StatementSync;
  readonly dataVersion: StatementSync;
  readonly deleteTree: StatementSync;
  readonly moveTree: StatementSync;
  readonly copyTree: StatementSync;
  readonly deleteOne: StatementSync;
  readonly exists: StatementSync;

  constructor(readonly db: DatabaseSync) {
    db.exec('PRAGMA journal_mode = WAL');
    // FULL: a committed merge survives power loss too; merges are rare (only when a file's provenance grows).
    db.exec('PRAGMA synchronous = FULL');
    db.exec(`CREATE TABLE IF NOT EXISTS file_provenance (
      path TEXT PRIMARY KEY,
      sources TEXT NOT NULL,
      labels TEXT NOT NULL,
      write_span TEXT,
      updated_at INTEGER NOT NULL
    ) WITHOUT ROWID`);
    // `path` itself or anything under it: the range keeps the primary-key index usable ('0' follows '/').
    const tree = `(path = $path OR (path > $path || '/' AND path < $path || '0'))`;
    this.select = db.prepare('SELECT sources, labels, write_span FROM file_provenance WHERE path = ?');
    this.upsert = db.prepare(`INSERT INTO file_provenance (path, sources, labels, write_span, updated_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (path) DO UPDATE SET sources = excluded.sources, labels = excluded.labels, write_span = excluded.write_span, updated_at = excluded.updated_at`);
    this.dataVersion = db.prepare('PRAGMA data_version');
    this.dataVersion.setReturnArrays(true);
    this.deleteTree = db.prepare(`DELETE FROM file_provenance WHERE ${tree}`);
    this.moveTree = db.prepare(`UPDATE file_provenance SET path = $to || substr(path, length($path) + 1), updated_at = $now WHERE ${tree}`);
    this.copyTree = db.prepare(
      `INSERT OR REPLACE INTO file_provenance (path, sources, labels, write_span, updated_at)
       SELECT $to || substr(path, length($path) + 1), sources, labels, write_span, $now FROM file_provenance WHERE ${tree}`,
    );
    this.deleteOne = db.prepare('DELETE FROM file_provenance WHERE path = ?');
    this.exists = db.prepare('SELECT 1 FROM file_provenance WHERE path = ?');
  }

  /** Run `fn` in one write transaction, committed before returning. */
  write(fn: () => void): void {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      fn();
      this.db.exec('COMMIT');
    } catch (error) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw error;
    }
  }
}

export class SqliteProvenanceStore implements ProvenanceStore {
  /** Per-path answers; `null` caches "no provenance recorded". */
  private readonly cache = new BoundedCache<string, StoredProvenance | null>(CACHE_LIMIT);
  private connection: Connection | undefined;
  private dataVersion = -1;
  /** Inode of the database file this store opened, so a rebuild never moves another process's fresh one. */
  private openedInode: number | undefined;
  private checkedThisTask = false;
  private getsUntilCheck = 0;
  private nextFreshnessCheck = 0;
  private readonly endOfTask = (): void => {
    this.checkedThisTask = false;
  };

  constructor(
    private readonly sqlite: Sqlite,
    readonly file: string,
    private readonly schema: LabelSchema,
  ) {
    this.connection = this.open();
  }

  get(path: string): StoredProvenance | undefined {
    if (!this.checkedThisTask || --this.getsUntilCheck < 0) this.noticeOtherWritersNowAndThen();
    let cached = this.cache.get(path);
    if (cached === undefined) {
      cached = this.recover(() => this.load(this.conn(), path)) ?? null;
      this.remember(path, cached);
    }
    return cached ?? undefined;
  }

  merge(path: string, added: StoredProvenance): void {
    this.noticeOtherWriters();
    const current = this.get(path);
    if (joinStored(this.schema, current, added) === current) return;
    this.recover(() => {
      const conn = this.conn();
      let result: StoredProvenance | undefined;
      conn.write(() => {
        // Re-read under the write lock: another process may have merged since.
        const stored = this.load(conn, path);
        result = joinStored(this.schema, stored, added);
        if (result !== stored) {
          conn.upsert.run(path, JSON.stringify(result.sources), JSON.stringify(result.labels), encodeSpan(result.writeSpan), Date.now());
        }
      });
      this.remember(path, result ?? null);
    });
  }

  move(from: string, to: string): void {
    this.changeTree((conn) => {
      conn.deleteTree.run({ path: to });
      conn.moveTree.run({ path: from, to, now: Date.now() });
    });
  }

  copy(from: string, to: string): void {
    this.changeTree((conn) => {
      // The destination's old content is replaced: without source provenance it has none.
      if (conn.exists.get(from) === undefined) conn.deleteOne.run(to);
      conn.copyTree.run({ path: from, to, now: Date.now() });
    });
  }

  retire(path: string): void {
    this.changeTree((conn) => conn.deleteTree.run({ path }));
  }

  close(): void {
    this.cache.clear();
    const conn = this.connection;
    this.connection = undefined;
    if (conn?.db.isOpen) conn.db.close();
  }

  private changeTree(change: (conn: Connection) => void): void {
    this.recover(() => {
      const conn = this.conn();
      conn.write(() => change(conn));
    });
    this.cache.clear();
  }

  private noticeOtherWritersNowAndThen(): void {
    if (!this.checkedThisTask) {
      this.checkedThisTask = true;
      queueMicrotask(this.endOfTask);
    }
    this.getsUntilCheck = GETS_PER_FRESHNESS_CHECK;
    const now = performance.now();
    if (now < this.nextFreshnessCheck) return;
    this.nextFreshnessCheck = now + FRESHNESS_INTERVAL_MS;
    this.noticeOtherWriters();
  }

  /** Forget cached answers when another connection has committed since the last look. */
  private noticeOtherWriters(): void {
    const version = this.recover(() => (this.conn().dataVersion.get() as unknown as [number])[0]);
    if (version !== this.dataVersion) {
      this.dataVersion = version;
      this.cache.clear();
    }
  }

  private load(conn: Connection, path: string): StoredProvenance | undefined {
    const row = conn.select.get(path) as Row | undefined;
    if (row === undefined) return undefined;
    try {
      const stored: StoredProvenance = {
        sources: JSON.parse(row.sources) as string[],
        labels: JSON.parse(row.labels) as PublicLabels,
      };
      const writeSpan = decodeSpan(row.write_span);
      if (writeSpan) stored.writeSpan = writeSpan;
      return stored;
    } catch (error) {
      diag.warn(`provenant: unreadable provenance record for ${path} ignored`, error);
      return undefined;
    }
  }

  private remember(path: string, value: StoredProvenance | null): void {
    this.cache.set(path, value);
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
    this.dataVersion = -1;
    const db = new this.sqlite.DatabaseSync(this.file, { timeout: BUSY_TIMEOUT_MS });
    this.openedInode = internally(() => statSync(this.file, { throwIfNoEntry: false })?.ino);
    try {
      return new Connection(db);
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

function isCorruption(error: unknown): boolean {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  if (typeof code !== 'number') return false;
  const primary = code & 0xff;
  return primary === SQLITE_CORRUPT || primary === SQLITE_NOTADB;
}
