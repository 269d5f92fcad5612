// Runs one installed suite once in one mode: `node --test` over its test files with the
// transparency reporter. Returns each test's status, the wall time and the state dir.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { modeEnv } from './modes.mjs';

const reporter = path.join(import.meta.dirname, 'reporter.mjs');

/**
 * Parses the reporter's JSON lines into a Map "file: name" → status (repeated names numbered);
 * the run's own folder in a name (a temp path) reads `<run>`, so names match across runs.
 */
export function parseResults(text, dir) {
  const results = new Map();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const { file, name, status, error } = JSON.parse(line.replaceAll(dir, '<run>'));
    let key = `${file}: ${name}`;
    for (let n = 2; results.has(key); n++) key = `${file}: ${name} #${n}`;
    results.set(key, { status, error });
  }
  return results;
}

export async function runSuite(suite, packageDir, mode, files = suite.files) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `provenant-suite-${suite.name}-${mode}-`));
  mkdirSync(path.join(dir, 'tmp'));
  const out = path.join(dir, 'results.jsonl');
  const args = [
    ...(suite.nodeArgs ?? []),
    '--test',
    `--test-timeout=${suite.timeoutMs ?? 60_000}`,
    `--test-reporter=${reporter}`,
    `--test-reporter-destination=${out}`,
    ...files,
  ];
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: packageDir, env: modeEnv(mode, dir), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text) => (stderr += text));
  const code = await new Promise((resolve) => child.on('close', resolve));
  const ms = performance.now() - started;
  let results = new Map();
  try {
    results = parseResults(readFileSync(out, 'utf8'), dir);
  } catch (error) {
    stderr += `\n(no results: ${error.message})`;
  }
  return { mode, code, ms, results, stderr, dir };
}
