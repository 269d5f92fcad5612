/** Reading a state dir's journal the way a test checks it: every record of every segment, in file order, resolved as the CLI reads it. */
import { forEachRecord } from '../../src/journal/decode.js';
import type { JournalRecord } from '../../src/journal/format.js';

export function journalRecords(stateDir: string): JournalRecord[] {
  const records: JournalRecord[] = [];
  forEachRecord([stateDir], (record) => records.push(record));
  return records;
}
