/**
 * SQLite access for the node-local store: loading `node:sqlite` quietly, one connection with the
 * schema and its prepared statements, and telling corruption apart from other errors.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';

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

export interface Row {
  sources: string;
  labels: string;
  write_span: string | null;
  names: string | null;
}

/** 1: rows keyed by path as written. 2: rows keyed by inode (`inode:<dev>:<ino>`) or real path, plus `names`. */
export const SCHEMA_VERSION = 2;

/** One open connection with its prepared statements. */
export class Connection {
  readonly select: StatementSync;
  readonly upsert: StatementSync;
  readonly dataVersion: StatementSync;
  readonly deleteTree: StatementSync;
  readonly moveTree: StatementSync;
  readonly deleteOne: StatementSync;

  constructor(readonly db: DatabaseSync) {
    db.exec('PRAGMA journal_mode = WAL');
    // FULL: a committed merge survives power loss too; merges are rare (only when a file's provenance grows).
    db.exec('PRAGMA synchronous = FULL');
    this.migrate();
    // `path` itself or anything under it: the range keeps the primary-key index usable ('0' follows '/').
    const tree = `(path = $path OR (path > $path || '/' AND path < $path || '0'))`;
    this.select = db.prepare('SELECT sources, labels, write_span, names FROM file_provenance WHERE path = ?');
    this.upsert = db.prepare(`INSERT INTO file_provenance (path, sources, labels, write_span, names, updated_at) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (path) DO UPDATE SET sources = excluded.sources, labels = excluded.labels, write_span = excluded.write_span,
      names = excluded.names, updated_at = excluded.updated_at`);
    this.dataVersion = db.prepare('PRAGMA data_version');
    this.dataVersion.setReturnArrays(true);
    this.deleteTree = db.prepare(`DELETE FROM file_provenance WHERE ${tree}`);
    this.moveTree = db.prepare(`UPDATE file_provenance SET path = $to || substr(path, length($path) + 1), updated_at = $now WHERE ${tree}`);
    this.deleteOne = db.prepare('DELETE FROM file_provenance WHERE path = ?');
  }

  /**
   * Create the table, or bring one of schema 1 to 2 (a `names` column; its path-keyed rows stay
   * valid as they are and are folded into inode rows as files are read). Every process on the
   * node may open the database at once, hence the write lock around the check.
   */
  private migrate(): void {
    const version = (): number => (this.db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
    if (version() >= SCHEMA_VERSION) return;
    this.write(() => {
      if (version() >= SCHEMA_VERSION) return;
      this.db.exec(`CREATE TABLE IF NOT EXISTS file_provenance (
        path TEXT PRIMARY KEY,
        sources TEXT NOT NULL,
        labels TEXT NOT NULL,
        write_span TEXT,
        updated_at INTEGER NOT NULL,
        names TEXT
      ) WITHOUT ROWID`);
      const columns = this.db.prepare('PRAGMA table_info(file_provenance)').all() as { name: string }[];
      if (!columns.some((column) => column.name === 'names')) this.db.exec('ALTER TABLE file_provenance ADD COLUMN names TEXT');
      this.db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    });
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

export function isCorruption(error: unknown): boolean {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  if (typeof code !== 'number') return false;
  const primary = code & 0xff;
  return primary === SQLITE_CORRUPT || primary === SQLITE_NOTADB;
}
