/** Reading a state dir's journal the way a test checks it: every record line of every segment, in file order. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JournalRecord } from '../../src/journal/format.js';

export function journalRecords(stateDir: string): JournalRecord[] {
  const dir = join(stateDir, 'journal');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.jsonl'))
    .sort()
    .flatMap((file) =>
      readFileSync(join(dir, file), 'utf8')
        .split('\n')
        .filter((line) => line.startsWith('{"seq":'))
        .map((line) => JSON.parse(line) as JournalRecord),
    );
}
