// The transparency run (issue 18): real projects' own test suites, installed from the npm
// registry, run plain and under the preload (enforce, audit, a config labelling the temp folder).
// Fails if any test that passes plain does not pass under the preload, or if a state dir left by
// a run does not pass `provenant verify`. Prints per suite and mode the counts, the wall-time
// ratio to plain, the state dir's size per test.
//
//   npm run test:transparency [-- suite-name ...]     (PROVENANT_SUITES_KEEP=1 keeps the run folders)
import { rmSync } from 'node:fs';
import os from 'node:os';
import { install } from './install.mjs';
import { MODES } from './modes.mjs';
import { runSuite } from './run-suite.mjs';
import { preloadRow, printTable } from './state.mjs';
import { SUITES } from './suites.mjs';

const only = process.argv.slice(2);
let failed = false;
const rows = [];

for (const suite of SUITES.filter((s) => only.length === 0 || only.includes(s.name))) {
  const name = `${suite.name}@${suite.version}`;
  const packageDir = install(suite);
  const plain = await runSuite(suite, packageDir, 'plain');
  rows.push({ name, run: plain, plain });
  if (![...plain.results.values()].some((r) => r.status === 'pass')) {
    console.error(`${name}: no test passes plain (exit ${plain.code})\n${plain.stderr.slice(-2000)}`);
    failed = true;
  }
  for (const mode of MODES.slice(1)) {
    const run = await runSuite(suite, packageDir, mode);
    const row = preloadRow(name, plain, run);
    const { lost, verified } = row;
    rows.push(row);
    if (lost.length > 0 || !verified.ok) failed = true;
    for (const key of lost) {
      const result = run.results.get(key);
      console.error(
        `${name} [${mode}] passes plain, not under the preload: ${key} → ${result?.status ?? 'missing'} ${result?.error ?? ''}`,
      );
    }
    if (lost.length > 0) console.error(run.stderr.slice(-3000));
    if (!verified.ok) console.error(`${name} [${mode}] provenant verify failed:\n${verified.output}`);
  }
  if (process.env.PROVENANT_SUITES_KEEP !== '1')
    for (const row of rows.filter((r) => r.name === name)) rmSync(row.run.dir, { recursive: true, force: true });
}

printTable(
  `Transparency suites, Node ${process.version}, load average ${os.loadavg()[0].toFixed(1)}: tests passing plain that pass under the preload`,
  rows,
);
process.exitCode = failed ? 1 : 0;
