// What a run under the preload left in its state dir: its size, and whether `provenant verify`
// accepts it (run without the preload: the CLI never instruments itself anyway).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const cli = path.resolve(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');

export function bytesUnder(dir) {
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (entry.isFile()) total += statSync(path.join(entry.parentPath, entry.name)).size;
  return total;
}

export function verify(stateDir) {
  const result = spawnSync(process.execPath, [cli, 'verify', '--state', stateDir], { encoding: 'utf8' });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}`.trim() };
}

/**
 * Runtimes that journalled into the state dir: processes, worker threads and Node's loader thread
 * each write segments named `<service>-<pid>-<start>-<id>-<n>.jsonl`, so distinct name stems count
 * them (what start-up costs a suite is this many times one start).
 */
export function runtimesUnder(dir) {
  const journal = path.join(dir, 'journal');
  if (!existsSync(journal)) return 0;
  const stems = new Set();
  for (const name of readdirSync(journal)) if (name.endsWith('.jsonl')) stems.add(name.replace(/-\d+\.jsonl$/, ''));
  return stems.size;
}

/** One preload run compared with the plain one: what it lost, its state dir (sizes, runtimes) and verify. */
export function preloadRow(name, plain, run) {
  const state = path.join(run.dir, 'state');
  return {
    name,
    run,
    plain,
    size: bytesUnder(state),
    journal: bytesUnder(path.join(state, 'journal')),
    verified: verify(state),
    lost: lostTests(plain, run),
    runtimes: runtimesUnder(state),
  };
}

/** Compares each preload run with the plain one: the tests that passed plain and did not pass. */
export function lostTests(plain, run) {
  return [...plain.results].filter(([key, r]) => r.status === 'pass' && run.results.get(key)?.status !== 'pass').map(([key]) => key);
}

/** One markdown row per run: counts, wall time and its ratio to plain, the state dir and its journal per test, verify. */
export function printTable(title, rows) {
  const count = (results, status) => [...results.values()].filter((r) => r.status === status).length;
  console.log(`\n${title}\n`);
  console.log('| suite | mode | pass | fail | skip | lost | wall s | ratio | state dir | journal per test | verify | runtimes |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const { name, run, plain, size, journal, verified, lost, runtimes } of rows) {
    // The journal is what grows with the tests; the rest (the store, a fixed-size code cache) does not.
    const perTest = journal === undefined ? '' : `${(journal / Math.max(run.results.size, 1) / 1024).toFixed(1)} KiB`;
    const cells = [
      name,
      run.mode,
      count(run.results, 'pass'),
      count(run.results, 'fail'),
      count(run.results, 'skip'),
      lost ? lost.length : '',
      (run.ms / 1000).toFixed(1),
      run === plain ? '' : `${(run.ms / plain.ms).toFixed(2)}×`,
      size === undefined ? '' : `${(size / 1024).toFixed(0)} KiB`,
      perTest,
      verified === undefined ? '' : verified.ok ? 'OK' : 'FAIL',
      runtimes ?? '',
    ];
    console.log(`| ${cells.join(' | ')} |`);
  }
}
