// `npm run bench`: runs every benchmark in turn (each in its own process, one at a time so they
// do not compete for the 2 cores) and prints one table: plain Node, OpenTelemetry's own
// instrumentation where one exists, provenant, and the ratios.
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ROWS_PREFIX } from './report.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const benches = [
  'policy.mjs',
  'fs.mjs',
  'http.mjs',
  'startup.mjs',
  'worker-startup.mjs',
  'memory.mjs',
  'journal.mjs',
  'log-export.mjs',
  'store-size.mjs',
];
const only = process.argv.slice(2);
const rows = [];

for (const bench of benches) {
  if (only.length > 0 && !only.some((name) => bench.startsWith(name))) continue;
  process.stderr.write(`running bench/${bench} ...\n`);
  const result = spawnSync(process.execPath, ['--expose-gc', bench], { cwd: here, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const line = result.stdout.split('\n').find((text) => text.startsWith(ROWS_PREFIX));
  if (result.status !== 0 || !line) {
    process.stderr.write(`bench/${bench} failed (status ${result.status})\n${result.stdout}\n${result.stderr}\n`);
    process.exitCode = 1;
    continue;
  }
  rows.push(...JSON.parse(line.slice(ROWS_PREFIX.length)));
}

const format = (value) => (value === undefined ? '—' : value >= 100 ? Math.round(value).toLocaleString('en') : value.toPrecision(3));
/** provenant ÷ baseline in the metric's own unit: for times 1.05× = 5% slower, for throughput 0.90× = 10% less. */
const ratio = (row, baseline) => (baseline === undefined ? '—' : `${(row.provenant / baseline).toFixed(2)}×`);

const header = ['benchmark', 'metric', 'unit', 'plain Node', 'OTel instr.', 'provenant', 'vs plain', 'vs OTel', 'range', 'target'];
const table = rows.map((row) => [
  row.bench,
  row.metric,
  row.unit,
  format(row.plain),
  format(row.otel),
  format(row.provenant),
  ratio(row, row.plain),
  ratio(row, row.otel),
  row.range ?? '',
  row.target ?? '',
]);
console.log(`\nmachine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
console.log("ratios: provenant ÷ baseline in the metric's unit (ns/op, µs, ms: lower is better; req/s: higher is better)\n");
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const cells of table) console.log(`| ${cells.join(' | ')} |`);
