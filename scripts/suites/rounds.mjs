// Runs a transparency command (run.mjs or local.mjs) several times in a row, so the modes of
// successive rounds interleave, and prints per suite and mode the median and range of the wall-time
// ratio to plain, from the tables each round prints. Any round with a lost test or a failed verify
// fails the whole.
//
//   node scripts/suites/rounds.mjs 3 -- node scripts/suites/run.mjs
//   node scripts/suites/rounds.mjs 3 -- node scripts/suites/local.mjs ../fs-extra fs-extra -- node test.js --reporter tap
import { spawnSync } from 'node:child_process';
import os from 'node:os';

const separator = process.argv.indexOf('--');
const rounds = Number(process.argv[2]);
const [command, ...args] = process.argv.slice(separator + 1);
if (separator < 0 || !Number.isInteger(rounds) || rounds < 1 || !command) {
  console.error('usage: node scripts/suites/rounds.mjs <rounds> -- <command> [args…]');
  process.exit(2);
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** (suite, mode) → { ratios, walls, passes, lost, verify } over the rounds. */
const rows = new Map();
const loads = [];
let failed = false;
for (let round = 1; round <= rounds; round++) {
  loads.push(os.loadavg()[0]);
  const result = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) failed = true;
  // Each round's own table too (state dir, runtimes), which the summary below leaves out.
  process.stderr.write(result.stdout);
  let suite = '';
  for (const line of result.stdout.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    if (cells.length < 12 || cells[1] === 'suite' || cells[1].startsWith('---')) continue;
    // local.mjs leaves the suite's name out of the rows after its first.
    if (cells[1] !== '') suite = cells[1];
    const [mode, pass, , , lost, wall, ratio, , , verify] = cells.slice(2);
    const key = `${suite}|${mode}`;
    const row = rows.get(key) ?? { suite, mode, ratios: [], walls: [], passes: new Set(), lost: 0, verify: new Set() };
    row.walls.push(Number(wall));
    if (ratio) row.ratios.push(Number(ratio.replace('×', '')));
    row.passes.add(pass);
    row.lost += Number(lost || 0);
    if (verify) row.verify.add(verify);
    rows.set(key, row);
  }
  console.error(`round ${round}/${rounds} done (exit ${result.status})`);
}

const range = (values, digits) =>
  `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;
console.log(
  `\n${rounds} rounds of ${[command, ...args].join(' ')}\nNode ${process.version}, load average ${loads.map((l) => l.toFixed(1)).join(', ')} at each round's start\n`,
);
console.log('| suite | mode | pass | lost | wall s median (range) | ratio median (range) | verify |');
console.log('|---|---|---|---|---|---|---|');
for (const row of rows.values()) {
  const ratio = row.ratios.length ? `${range(row.ratios, 2)}×` : '';
  console.log(
    `| ${row.suite} | ${row.mode} | ${[...row.passes].join(', ')} | ${row.mode === 'plain' ? '' : row.lost} | ${range(row.walls, 1)} | ${ratio} | ${[...row.verify].join(', ')} |`,
  );
}
process.exitCode = failed ? 1 : 0;
