// A batch job under the preload: one context (the process's) writes, copies, reads and deletes N
// files in turn, so its provenance grows by a few sources per file. Reports the wall time of the
// job and the bytes its journal and node-local store left on disk. Format 2 journals wrote every
// record's whole source list (O(N²) bytes); format 3 defines each set once per segment as the set
// before it plus what it adds.
//
//   npm run build && node bench/many-files.mjs [--files 1000] [--before OTHER/dist/register.js]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { reportRows, withoutTelemetryEnv } from './report.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : undefined);
const files = Number(option('files') ?? 1000);
const before = option('before');

if (args[0] === 'job') job(Number(args[1]), args[2]);
else main();

function job(n, dir) {
  const fs = createRequire(import.meta.url)('node:fs');
  for (let i = 0; i < n; i++) {
    const input = path.join(dir, 'in', `${i}.json`);
    fs.writeFileSync(input, JSON.stringify({ i }));
    fs.copyFileSync(input, path.join(dir, 'out', `${i}.json`));
    fs.readFileSync(path.join(dir, 'out', `${i}.json`));
    fs.unlinkSync(input);
  }
}

function main() {
  const variants = [['provenant', path.join(root, 'dist', 'register.js')]];
  if (before !== undefined) variants.unshift(['before', path.resolve(before)]);
  const results = {};
  for (const [variant, register] of variants) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'provenant-bench-many-'));
    try {
      mkdirSync(path.join(dir, 'in'));
      mkdirSync(path.join(dir, 'out'));
      writeFileSync(path.join(dir, 'provenant.yaml'), 'service: batch\njournal: { repeatWindowMs: 0 }\n');
      const state = path.join(dir, 'state');
      const started = process.hrtime.bigint();
      const run = spawnSync(process.execPath, ['-r', register, fileURLToPath(import.meta.url), 'job', String(files), dir], {
        env: { ...withoutTelemetryEnv(), PROVENANT_CONFIG: path.join(dir, 'provenant.yaml'), PROVENANT_STATE_DIR: state },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (run.status !== 0) throw new Error(`${variant}: the job exited with ${run.status}`);
      results[variant] = { seconds, journal: bytesIn(path.join(state, 'journal')), store: bytesIn(state, /\.db/) };
      process.stderr.write(`${variant}: ${JSON.stringify(results[variant])}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const mb = (bytes) => (bytes / 1e6).toFixed(1);
  console.log(`\nOne context writes, copies, reads and deletes ${files.toLocaleString('en')} files, Node ${process.version}\n`);
  console.log('| variant | time s | journal MB | store MB |');
  console.log('|---|---|---|---|');
  for (const [variant, r] of Object.entries(results))
    console.log(`| ${variant} | ${r.seconds.toFixed(1)} | ${mb(r.journal)} | ${mb(r.store)} |`);
  reportRows([
    {
      bench: 'many-files',
      metric: `journal after ${files} files in one context`,
      unit: 'MB',
      better: 'lower',
      provenant: results.provenant.journal / 1e6,
    },
    {
      bench: 'many-files',
      metric: `time for ${files} files in one context`,
      unit: 's',
      better: 'lower',
      provenant: results.provenant.seconds,
    },
  ]);
}

/** Bytes of the files directly in `dir` (whose names match `pattern`, when given). */
function bytesIn(dir, pattern) {
  try {
    return readdirSync(dir)
      .filter((name) => pattern === undefined || pattern.test(name))
      .reduce((sum, name) => sum + statSync(path.join(dir, name)).size, 0);
  } catch {
    return 0;
  }
}
