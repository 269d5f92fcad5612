// A project's own test suite from a local checkout (a GitHub snapshot: express, fs-extra,
// node-fetch… whose npm tarballs ship no tests), run plain and under the preload like
// `npm run test:transparency`, per test from the TAP its runner prints. Not run by CI (no GitHub
// at CI time): README lists the figures measured with it. The checkout needs its test
// dependencies installed; the command must print TAP on stdout (mocha: --reporter tap).
//
//   node scripts/suites/local.mjs <checkout> <name> -- <command> [args…]
//   e.g. node scripts/suites/local.mjs ../fs-extra fs-extra -- node test.js --reporter tap
// PROVENANT_SUITES_MODES=enforce,audit runs only those modes after plain (a suite of many minutes).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MODES, modeEnv } from './modes.mjs';
import { preloadRow, printTable } from './state.mjs';

const separator = process.argv.indexOf('--');
const [checkout, name] = process.argv.slice(2, separator);
const [command, ...args] = process.argv.slice(separator + 1);
if (separator < 0 || !checkout || !name || !command) {
  console.error('usage: node scripts/suites/local.mjs <checkout> <name> -- <command> [args…]');
  process.exit(2);
}

/**
 * TAP results: "ok/not ok N - name [# SKIP|TODO]", nested ones keyed under their indentation and
 * the top-level subtest they are in (a file, for tap and node:test), so a lost test names its file;
 * the run's own folder in a name (a temp path) reads `<run>`, so names match across runs.
 */
function parseTap(text, dir) {
  const results = new Map();
  /** Occurrences so far of each name (graceful-fs's suite repeats one name 16,000 times: no search for a free key). */
  const occurrences = new Map();
  let top = '';
  for (const line of text.replaceAll(dir, '<run>').split('\n')) {
    const subtest = /^# Subtest: (.*)$/.exec(line);
    if (subtest) top = `${subtest[1]} › `;
    // tap appends "# time=…ms" to a title: a timing, not part of the test's name.
    const match = /^(\s*)(not ok|ok)\b\s*\d*\s*(?:- )?(.*?)(?:\s+# (SKIP|TODO)\b.*|\s+# time=[\d.]+m?s)?$/i.exec(line);
    if (!match) continue;
    const [, indent, ok, title, directive] = match;
    const status = directive ? 'skip' : ok === 'ok' ? 'pass' : 'fail';
    const name = `${indent.length === 0 ? '' : top}${indent.length}: ${title}`;
    const n = (occurrences.get(name) ?? 0) + 1;
    occurrences.set(name, n);
    results.set(n === 1 ? name : `${name} #${n}`, { status });
  }
  return results;
}

async function runLocal(mode) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `provenant-local-${name}-${mode}-`));
  mkdirSync(path.join(dir, 'tmp'));
  const started = performance.now();
  const child = spawn(command, args, { cwd: path.resolve(checkout), env: modeEnv(mode, dir), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text) => (stderr += text));
  const code = await new Promise((resolve) => child.on('close', resolve));
  return { mode, code, ms: performance.now() - started, results: parseTap(stdout, dir), stderr, dir };
}

const rows = [];
let failed = false;
const plain = await runLocal('plain');
rows.push({ name, run: plain, plain });
if (![...plain.results.values()].some((r) => r.status === 'pass')) {
  console.error(`${name}: no test passes plain (exit ${plain.code}): is the command printing TAP?\n${plain.stderr.slice(-2000)}`);
  process.exit(1);
}
const modes = process.env.PROVENANT_SUITES_MODES?.split(',') ?? MODES.slice(1);
for (const mode of modes.filter((m) => MODES.slice(1).includes(m))) {
  const run = await runLocal(mode);
  const row = preloadRow(name, plain, run);
  const { lost, verified } = row;
  rows.push(row);
  if (lost.length > 0 || !verified.ok) failed = true;
  for (const key of lost) console.error(`${name} [${mode}] passes plain, not under the preload: ${key}`);
  if (lost.length > 0) console.error(run.stderr.slice(-3000));
}
for (const row of rows) rmSync(row.run.dir, { recursive: true, force: true });
printTable(`${name} from ${checkout}, Node ${process.version}, load average ${os.loadavg()[0].toFixed(1)}`, rows);
process.exitCode = failed ? 1 : 0;
