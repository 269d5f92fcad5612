/**
 * A file's record in the node-local store (schema 3): its row names an interned set
 * (stored-sets.ts) and holds the write span and hard-link names. Sets are cached by id here:
 * set rows never change, so the cache survives other processes' commits. A new set is stored as
 * a delta from the file's previous set or from the last set written here, whichever it contains.
 */
import { diag } from '@opentelemetry/api';
import { BoundedCache } from '../support/bounded-cache.js';
import type { Connection, FileRow } from './sqlite-connection.js';
import type { LabelSchema } from './labels.js';
import type { PendingMerge } from './pending-merges.js';
import { recordKey, type StoredProvenance } from './store.js';
import { decodeSpan, encodeSpan, isStringArray, joinStored, UNREADABLE_LABELS } from './stored-provenance.js';
import type { KnownSet, StoredSet } from './stored-sets.js';

export class FileRecords {
  private readonly sets: BoundedCache<number, StoredSet>;
  /** The set id each loaded record names, so a new set can be stored as a delta from it. */
  private readonly setIds = new WeakMap<StoredProvenance, number>();
  /** The last set written here: one context writing file after file grows it by a source or so. */
  private lastSaved: KnownSet | undefined;
  /** Sets inserted by the transaction under way: known only once it commits (a rolled-back id is reused). */
  private readonly inserted: KnownSet[] = [];

  /** `weight`: how many source references the set cache may hold (an entry counts as 16). */
  constructor(weight: number) {
    this.sets = new BoundedCache<number, StoredSet>(weight, (set) => 16 + set.sources.length);
  }

  /** Set ids belong to the database they were read from: forget them when it is rebuilt. */
  forgetSets(): void {
    this.sets.clear();
    this.lastSaved = undefined;
  }

  /** `conn.write(fn)` for transactions that `save`: the sets they insert are remembered only once committed. */
  write(conn: Connection, fn: () => void): boolean {
    try {
      const changed = conn.write(fn);
      for (const known of this.inserted) this.sets.set(known.id, known.set);
      this.lastSaved = this.inserted.at(-1) ?? this.lastSaved;
      return changed;
    } finally {
      this.inserted.length = 0;
    }
  }

  /**
   * Union each merge into its file's record, in one write transaction, each re-read under the
   * write lock (another process may have merged since); a record waiting under the path of a file
   * that exists now is folded into its inode's. `results`: each file's record now.
   */
  merge(
    conn: Connection,
    schema: LabelSchema,
    merges: readonly PendingMerge[],
  ): { changed: boolean; results: (StoredProvenance | undefined)[] } {
    const results: (StoredProvenance | undefined)[] = [];
    const changed = this.write(conn, () => {
      results.length = 0;
      for (const { file, added } of merges) {
        const key = recordKey(file);
        const stored = this.load(conn, key);
        const waiting = file.inode === undefined ? undefined : this.load(conn, file.path);
        const base = waiting === undefined ? stored : joinStored(schema, stored, waiting);
        const result = joinStored(schema, base, added);
        if (result !== stored) this.save(conn, key, result, [stored, waiting]);
        if (waiting !== undefined) conn.deleteOne.run(file.path);
        results.push(result);
      }
    });
    return { changed, results };
  }

  /** The record under `key`, or undefined; a malformed row reads as the most restrictive labels. */
  load(conn: Connection, key: string): StoredProvenance | undefined {
    const row = conn.selectFile.get(key) as FileRow | undefined;
    if (row === undefined) return undefined;
    let set = this.sets.get(row.set_id);
    if (set === undefined) {
      set = conn.sets.load(row.set_id, (id) => this.sets.get(id));
      this.sets.set(row.set_id, set);
    }
    const names = row.names === null ? undefined : parseNames(row.names);
    if (names === null) {
      diag.warn(`provenant: the provenance record for ${key} is malformed; it is read as the most restrictive labels`);
      return { sources: [], labels: UNREADABLE_LABELS };
    }
    const record: StoredProvenance = { sources: set.sources, labels: set.labels };
    const writeSpan = decodeSpan(row.write_span);
    if (writeSpan) record.writeSpan = writeSpan;
    if (names !== undefined) record.names = names;
    this.setIds.set(record, row.set_id);
    return record;
  }

  /** Write `value` under `key` (inside `write`); `previous`: records it was joined from (loaded here), candidate parents of its set. */
  save(conn: Connection, key: string, value: StoredProvenance, previous: readonly (StoredProvenance | undefined)[]): void {
    const set: StoredSet = { sources: value.sources, labels: value.labels };
    const id = conn.sets.intern(set, [...previous.map((record) => this.known(record)), this.lastSaved]);
    this.inserted.push({ id, set });
    conn.upsertFile.run(key, id, encodeSpan(value.writeSpan), value.names === undefined ? null : JSON.stringify(value.names), Date.now());
  }

  private known(record: StoredProvenance | undefined): KnownSet | undefined {
    const id = record === undefined ? undefined : this.setIds.get(record);
    return id === undefined || record === undefined ? undefined : { id, set: record };
  }
}

/** A row's `names` column: a list of paths, or null when it is not one. */
function parseNames(text: string): string[] | null {
  try {
    const names = JSON.parse(text) as unknown;
    return isStringArray(names) ? names : null;
  } catch {
    return null;
  }
}
