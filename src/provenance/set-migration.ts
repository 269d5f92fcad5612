/**
 * Schema 1 and 2 → 3: every record that held its own source list (`file_provenance`) becomes a
 * row naming an interned set (`file_records` → `provenance_sets`), in the caller's transaction.
 * Records are taken in the order they were last written, so a run of growing sets (one context
 * writing file after file) is stored as deltas, as it would have been written under schema 3. A
 * malformed record keeps being read as the most restrictive labels.
 */
import type { DatabaseSync } from 'node:sqlite';
import { sortedUnique } from './labels.js';
import { parseRecord, encodeSpan } from './stored-provenance.js';
import { SetTable, type KnownSet } from './stored-sets.js';

interface OldRow {
  path: string;
  sources: string;
  labels: string;
  write_span: string | null;
  names: string | null;
  updated_at: number;
}

export function migrateRecordsToSets(db: DatabaseSync): void {
  const columns = db.prepare("SELECT name FROM pragma_table_info('file_provenance')").all() as { name: string }[];
  if (columns.length === 0) return;
  const names = columns.some((column) => column.name === 'names') ? 'names' : 'NULL AS names';
  const rows = db
    .prepare(`SELECT path, sources, labels, write_span, ${names}, updated_at FROM file_provenance ORDER BY updated_at, path`)
    .iterate() as Iterable<OldRow>;
  const sets = new SetTable(db);
  const insert = db.prepare('INSERT OR REPLACE INTO file_records (path, set_id, write_span, names, updated_at) VALUES (?, ?, ?, ?, ?)');
  let previous: KnownSet | undefined;
  for (const row of [...rows]) {
    const record = parseRecord(row.path, row);
    const set = {
      sources: sortedUnique(record.sources),
      labels: { ...record.labels, tags: sortedUnique(record.labels.tags), locations: sortedUnique(record.labels.locations) },
    };
    const id = sets.intern(set, [previous]);
    previous = { id, set };
    const recordNames = record.names === undefined ? null : JSON.stringify(sortedUnique(record.names));
    insert.run(row.path, id, encodeSpan(record.writeSpan), recordNames, row.updated_at);
  }
  db.exec('DROP TABLE file_provenance');
}
