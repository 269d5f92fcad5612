// journal.retention over a long run: a preloaded app does W labelled writes (each a read record
// and a write record) with 1 MiB segments, without retention and with `maxBytes` = 8 MiB,
// interleaved rounds. Prints what the journal dir held at each progress step (its largest size)
// and at the end, how many bytes were written in all, the passes that deleted something, and the
// app's wall time both ways (what pruning costs it).
// Run after `npm run build`:
//   node bench/retention.mjs [writes = 20000] [rounds = 2]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { median, withoutTelemetryEnv } from './report.mjs';

const writes = Number(process.argv[2] ?? 20_000);
const rounds = Number(process.argv[3] ?? 2);
const STEPS = 60;
const SEGMENT = 1 << 20;
const BOUND = 8 * SEGMENT;
const here = new URL('.', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'provenant-bench-retention-'));

const APP = `
const fs = require('node:fs');
const path = require('node:path');
const work = process.env.WORK_DIR;
const perStep = Number(process.env.PER_STEP);
let count = 0;
require('node:readline').createInterface({ input: process.stdin }).on('line', async (line) => {
  if (line === 'end') process.exit(0);
  for (let i = 0; i < perStep; i++) {
    const data = fs.readFileSync(path.join(work, 'secret', 'patients.json'));
    fs.writeFileSync(path.join(work, 'secret', 'out', String(count++ % 1000) + '-' + count + '.json'), data);
  }
  await new Promise((resolve) => setImmediate(resolve));
  process.stdout.write('step\\n');
});
process.stdout.write('ready\\n');
`;

function dirBytes(dir) {
  try {
    return readdirSync(dir)
      .filter((n) => n.endsWith('.jsonl'))
      .reduce((sum, n) => sum + statSync(join(dir, n)).size, 0);
  } catch {
    return 0;
  }
}

async function run(retention, round) {
  const dir = join(work, `${retention ? 'on' : 'off'}-${round}`);
  const stateDir = join(dir, 'state');
  mkdirSync(join(dir, 'secret', 'out'), { recursive: true });
  writeFileSync(join(dir, 'secret', 'patients.json'), '{"name":"Ada","id":42}');
  writeFileSync(join(dir, 'app.cjs'), APP);
  writeFileSync(
    join(dir, 'provenant.yaml'),
    [
      'service: bench',
      'node: n1',
      'resources:',
      '  - match: { path: "secret/**" }',
      '    labels: { confidentiality: secret, tags: [pii] }',
      `journal: { repeatWindowMs: 0, segmentMaxBytes: ${SEGMENT}${retention ? `, retention: { maxBytes: ${BOUND} }` : ''} }`,
    ].join('\n') + '\n',
  );
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, ['-r', join(here, '..', 'dist', 'register.js'), join(dir, 'app.cjs')], {
    env: {
      ...withoutTelemetryEnv(),
      WORK_DIR: dir,
      PER_STEP: String(Math.ceil(writes / STEPS)),
      PROVENANT_CONFIG: join(dir, 'provenant.yaml'),
      PROVENANT_STATE_DIR: stateDir,
      OTEL_TRACES_EXPORTER: 'none',
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  await lines.next();
  let largest = 0;
  for (let step = 0; step < STEPS; step++) {
    child.stdin.write('go\n');
    await lines.next();
    largest = Math.max(largest, dirBytes(join(stateDir, 'journal')));
  }
  child.stdin.write('end\n');
  await new Promise((resolve) => child.on('exit', resolve));
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  let evidence = [];
  try {
    evidence = readFileSync(join(stateDir, 'retention', 'pruned.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
  } catch {
    // No pass deleted anything.
  }
  const final = dirBytes(join(stateDir, 'journal'));
  const deleted = evidence.reduce((sum, e) => sum + e.bytes, 0);
  rmSync(dir, { recursive: true, force: true });
  return { ms, largest, final, written: final + deleted, passes: evidence.length };
}

const results = { off: [], on: [] };
for (let round = 0; round < rounds; round++) {
  results.off.push(await run(false, round));
  results.on.push(await run(true, round));
}
rmSync(work, { recursive: true, force: true });
const mib = (n) => (n / 1048576).toFixed(1);
const row = (name, list) => {
  const pick = (key) => median(list.map((r) => r[key]));
  return [
    name,
    `${mib(pick('written'))} MiB`,
    `${mib(pick('largest'))} MiB`,
    `${mib(pick('final'))} MiB`,
    String(pick('passes')),
    `${(pick('ms') / 1000).toFixed(2)} s`,
  ];
};
console.log(
  `journal.retention: ${writes} labelled writes (${2 * writes} records), segments of ${mib(SEGMENT)} MiB, ${rounds} interleaved rounds, medians`,
);
for (const line of [
  ['journal', 'written', 'dir at most', 'dir at end', 'passes that deleted', 'app wall time'],
  row('no retention', results.off),
  row(`retention maxBytes ${mib(BOUND)} MiB`, results.on),
])
  console.log(`| ${line.join(' | ')} |`);
