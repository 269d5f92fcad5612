// Size of the node-local store after one context reads and writes N files in turn (a batch job):
// file i is written after reading inputs 0…i, so it derives from i + 1 sources. A full source
// list per file grows the store with N²; interned sets (schema 3) with N. A real process under
// the preload writes the files; the store is then checkpointed and its file measured.
//
//   npm run build && node bench/store-size.mjs [--n 1000,4000] [--dist <other build's dist>]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { reportRows, withoutTelemetryEnv } from './report.mjs';

const here = fileURLToPath(import.meta.url);
const flag = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : fallback;
};

if (process.argv[2] === '--child') child(process.argv[3], Number(process.argv[4]));
else parent();

function parent() {
  const dist = flag('--dist', join(dirname(here), '..', 'dist'));
  const sizes = flag('--n', '1000,4000').split(',').map(Number);
  const rows = [];
  for (const n of sizes) {
    const work = mkdtempSync(join(tmpdir(), 'provenant-store-size-'));
    try {
      const state = join(work, 'state');
      const start = process.hrtime.bigint();
      const run = spawnSync(process.execPath, ['-r', join(dist, 'register.js'), here, '--child', work, String(n)], {
        env: { ...withoutTelemetryEnv(process.env), PROVENANT_STATE_DIR: state },
        encoding: 'utf8',
      });
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (run.status !== 0) throw new Error(`child failed (${run.status}):\n${run.stderr}`);
      const file = join(state, 'provenance.db');
      const db = new DatabaseSync(file);
      db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      db.close();
      const bytes = statSync(file).size;
      console.log(
        `N = ${n}: store ${(bytes / 2 ** 20).toFixed(2)} MiB (${Math.round(bytes / n)} B per file), writer took ${seconds.toFixed(1)} s`,
      );
      rows.push({
        bench: 'store-size',
        metric: `store after one context writes ${n} files`,
        unit: 'MiB',
        better: 'lower',
        provenant: bytes / 2 ** 20,
      });
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  reportRows(rows);
}

function child(work, n) {
  for (const dir of ['in', 'out']) mkdirSync(join(work, dir), { recursive: true });
  // Written before anything is read: the inputs carry no provenance of their own.
  for (let i = 0; i < n; i++) writeFileSync(join(work, 'in', `${i}.json`), `{"i":${i}}`);
  // One context: every output derives from all inputs read so far.
  for (let i = 0; i < n; i++) writeFileSync(join(work, 'out', `${i}.json`), readFileSync(join(work, 'in', `${i}.json`)));
}
