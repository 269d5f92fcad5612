// Journal throughput: records/s appended on one core (target ≥ 50,000/s) and the time
// `verify` takes for 1,000,000 records (target ≤ 10 s). Run after `npm run build`:
//   node bench/journal.mjs [records]
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJournal } from '../dist/journal/writer.js';
import { verifyJournal } from '../dist/journal/verify.js';
import { reportRows } from './report.mjs';

const total = Number(process.argv[2] ?? 1_000_000);
const stateDir = mkdtempSync(join(tmpdir(), 'provenant-bench-'));
const signingKey = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' });
const config = {
  enabled: true,
  contentHash: 'sha256',
  pseudonymize: false,
  sync: 'batch',
  flushIntervalMs: 100,
  checkpointEvery: 10_000,
  checkpointIntervalMs: 5_000,
  segmentMaxBytes: 64 * 1024 * 1024,
};
const labels = { confidentiality: 'secret', integrity: 'high', tags: ['pii'], locations: ['eu-west-1'] };
const journal = openJournal({ stateDir, config, service: 'bench', node: 'bench-node', pid: process.pid, signingKey });

const started = process.hrtime.bigint();
for (let i = 0; i < total; i++) {
  journal.append({
    time: Date.now(),
    op: i % 3 === 0 ? 'read' : 'write',
    resource: `file://bench-node/srv/data/out-${i % 1000}.json`,
    sources: ['file://bench-node/srv/data/patients/42.json', 'https://api.example.com:443'],
    labels,
    decision: 'allow',
    bytes: 4096,
    contentDigest: 'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
  });
}
journal.close();
const appendSeconds = Number(process.hrtime.bigint() - started) / 1e9;

const verifyStarted = process.hrtime.bigint();
const report = verifyJournal([stateDir]);
const verifySeconds = Number(process.hrtime.bigint() - verifyStarted) / 1e9;

// The same check as users run it: `provenant verify --state DIR` (includes process start-up).
const cliStarted = process.hrtime.bigint();
const cli = spawnSync(process.execPath, [new URL('../dist/cli/main.js', import.meta.url).pathname, 'verify', '--state', stateDir], {
  encoding: 'utf8',
});
const cliSeconds = Number(process.hrtime.bigint() - cliStarted) / 1e9;
rmSync(stateDir, { recursive: true, force: true });

const result = {
  records: total,
  appendPerSecond: Math.round(total / appendSeconds),
  appendSeconds: Number(appendSeconds.toFixed(2)),
  verifySeconds: Number(verifySeconds.toFixed(2)),
  cliVerifySeconds: Number(cliSeconds.toFixed(2)),
  verified: report.ok && report.records === total && cli.status === 0,
  segments: report.segments.length,
  lostRecords: journal.lostRecords,
};
console.log(JSON.stringify(result, null, 2));
console.log(
  `append: ${result.appendPerSecond.toLocaleString('en')} records/s (target ≥ 50,000)  ${result.appendPerSecond >= 50_000 ? 'PASS' : 'FAIL'}`,
);
console.log(
  `verify ${total.toLocaleString('en')} records: ${result.verifySeconds} s in-process, ${result.cliVerifySeconds} s via the CLI (target ≤ 10 s for 1,000,000)  ${result.verified ? 'verified' : 'NOT VERIFIED'}`,
);
if (!result.verified) process.exitCode = 1;
reportRows([
  {
    bench: 'journal',
    metric: 'append (one core)',
    unit: 'records/s',
    better: 'higher',
    provenant: result.appendPerSecond,
    target: '≥ 50,000',
  },
  {
    bench: 'journal',
    metric: `verify ${total.toLocaleString('en')} records (CLI)`,
    unit: 's',
    better: 'lower',
    provenant: result.cliVerifySeconds,
    target: '≤ 10 s',
  },
]);
