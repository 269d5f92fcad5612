// The app the journal-export tests run under the preload, its config, and the ids the export must
// deliver (read from the journal itself): shared by the delivery, protocol and exit-flush tests.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isDefinitionLine } from '../../src/journal/format.js';
import { readLines, segmentFiles } from '../journal/helpers.js';
import { tempDir } from '../helpers/tmp.js';

/** Reads a secret, copies it (allowed), tries to leak it (denied); with WAIT, stays up until stdin ends. */
const APP = `
const fs = require('node:fs');
const path = require('node:path');
const work = process.env.WORK_DIR;
const run = process.env.RUN;
const secret = fs.readFileSync(path.join(work, 'secret', 'patients.json'));
fs.writeFileSync(path.join(work, 'secret', 'copy-' + run + '.json'), secret);
try {
  fs.writeFileSync(path.join(work, 'public', 'leak-' + run + '.json'), secret);
  process.exit(3);
} catch (error) {
  if (error.code !== 'ERR_PROVENANCE_DENIED') throw error;
}
if (process.env.WAIT) {
  process.stdout.write('ready\\n');
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}
`;

/** A work dir with the app (`app.cjs`), its secret and public dirs and its config (`provenant.yaml`, with `journal` as given). */
export function logApp(prefix: string, journal = '{ repeatWindowMs: 0 }'): string {
  const work = tempDir(prefix);
  mkdirSync(path.join(work, 'secret'));
  mkdirSync(path.join(work, 'public'));
  writeFileSync(path.join(work, 'secret', 'patients.json'), '{"name":"Ada"}');
  writeFileSync(path.join(work, 'app.cjs'), APP);
  writeFileSync(
    path.join(work, 'provenant.yaml'),
    [
      'service: billing',
      'node: n1',
      'resources:',
      '  - match: { path: "secret/**" }',
      '    labels: { confidentiality: secret, tags: [pii] }',
      '  - match: { path: "public/**" }',
      '    labels: { confidentiality: public }',
      `journal: ${journal}`,
    ].join('\n') + '\n',
  );
  return work;
}

/** The ids the exporter must deliver → their event name: records by log and seq, checkpoints by segment and offset. */
export function journalIds(state: string): Map<string, string> {
  const ids = new Map<string, string>();
  for (const file of segmentFiles(state)) {
    let log = '';
    let offset = 0;
    const name = path.basename(file);
    for (const line of readLines(file)) {
      if (line.startsWith('{"type":"header"')) log = (JSON.parse(line) as { log: string }).log;
      // Source set definitions are not sent: each record carries its resolved sources.
      else if (line.startsWith('{"seq":') && !isDefinitionLine(line)) {
        const record = JSON.parse(line) as { seq: number; decision?: string };
        ids.set(`${log}/${record.seq}`, record.decision === 'deny' ? 'provenant.denial' : 'provenant.flow');
      } else if (line.startsWith('{"type":"checkpoint"')) ids.set(`${name}:${offset}`, 'provenant.checkpoint');
      offset += Buffer.byteLength(line) + 1;
    }
  }
  return ids;
}
