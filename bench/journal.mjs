// Journal throughput and evidence costs: records/s appended on one core with C2SP signed-note
// checkpoints (target ≥ 100,000/s), the time `verify --key` takes for 1,000,000 records (target
// ≤ 10 s), the size of a `prove` bundle and the time of `prove` and `verify-proof`, and the round
// trip of one `add-checkpoint` to a real `provenant witness` process on loopback (median of 50).
// Append is also given per CPU second of the process (user + system), which a shared, loaded
// machine disturbs less than the wall clock. Run after `npm run build`:
//   node bench/journal.mjs [records]
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJournal } from '../dist/journal/writer.js';
import { loadSigningKey, logVkey } from '../dist/journal/keys.js';
import { verifyJournal } from '../dist/journal/verify.js';
import { reportRows } from './report.mjs';

const total = Number(process.argv[2] ?? 1_000_000);
const stateDir = mkdtempSync(join(tmpdir(), 'provenant-bench-'));
const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' });
const signingKey = loadSigningKey(pem);
const config = {
  enabled: true,
  contentHash: 'sha256',
  pseudonymize: false,
  sync: 'batch',
  flushIntervalMs: 100,
  checkpointEvery: 10_000,
  checkpointIntervalMs: 5_000,
  segmentMaxBytes: 64 * 1024 * 1024,
  repeatWindowMs: 0,
  witnesses: [],
  witnessQuorum: 1,
};
const labels = { confidentiality: 'secret', integrity: 'high', tags: ['pii'], locations: ['eu-west-1'] };
let lastNote = '';
const journal = openJournal({
  stateDir,
  config,
  service: 'bench',
  node: 'bench-node',
  pid: process.pid,
  signingKey,
  onCheckpoint: (checkpoint) => (lastNote = checkpoint.note),
});

const started = process.hrtime.bigint();
const cpuBefore = process.cpuUsage();
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
const cpu = process.cpuUsage(cpuBefore);
const appendCpuSeconds = (cpu.user + cpu.system) / 1e6;
const journalBytes = readdirSync(join(stateDir, 'journal'))
  .filter((name) => name.endsWith('.jsonl'))
  .reduce((sum, name) => sum + statSync(join(stateDir, 'journal', name)).size, 0);

const verifyStarted = process.hrtime.bigint();
const report = verifyJournal([stateDir], { publicKey: signingKey.publicKey });
const verifySeconds = Number(process.hrtime.bigint() - verifyStarted) / 1e9;

const main = new URL('../dist/cli/main.js', import.meta.url).pathname;
const keyFile = join(stateDir, 'key.pem');
writeFileSync(keyFile, pem);
/** Runs the CLI as users do (process start-up included); returns seconds. */
function timedCli(...args) {
  const started = process.hrtime.bigint();
  const run = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`provenant ${args.join(' ')}: ${run.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}
// The same check as users run it: `provenant verify --key K --state DIR`.
const cliSeconds = timedCli('verify', '--state', stateDir, '--key', keyFile);
const segment = readdirSync(join(stateDir, 'journal')).find((name) => name.endsWith('.jsonl'));
const proofFile = join(stateDir, 'record.tlog-proof');
const proveSeconds = timedCli('prove', segment, String(Math.ceil(total / 2)), '--state', stateDir, '--out', proofFile);
const proofBytes = statSync(proofFile).size;
const vkey = logVkey('bench-node', 'bench', signingKey.publicKey).text;
const verifyProofSeconds = timedCli('verify-proof', proofFile, '--key', vkey);
const witnessMs = await witnessRoundTrip(vkey, lastNote);
rmSync(stateDir, { recursive: true, force: true });

/** Median ms of `add-checkpoint` to a real witness process: the same checkpoint again (old = its size, empty proof) is cosigned every time. */
async function witnessRoundTrip(logKey, note) {
  const witness = spawn(
    process.execPath,
    [main, 'witness', '--listen', '127.0.0.1:0', '--state', join(stateDir, 'witness'), '--log-key', logKey],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let url;
  for await (const line of createInterface({ input: witness.stdout })) {
    if (line.startsWith('listening ')) {
      url = line.slice('listening '.length);
      break;
    }
  }
  const size = note.split('\n')[1];
  const first = await fetch(`${url}/add-checkpoint`, { method: 'POST', body: `old 0\n\n${note}` });
  if (first.status !== 200) throw new Error(`witness: HTTP ${first.status}`);
  const times = [];
  for (let i = 0; i < 50; i++) {
    const started = process.hrtime.bigint();
    const response = await fetch(`${url}/add-checkpoint`, { method: 'POST', body: `old ${size}\n\n${note}` });
    await response.text();
    if (response.status !== 200) throw new Error(`witness: HTTP ${response.status}`);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  witness.kill();
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

const result = {
  records: total,
  appendPerSecond: Math.round(total / appendSeconds),
  appendSeconds: Number(appendSeconds.toFixed(2)),
  appendPerCpuSecond: Math.round(total / appendCpuSeconds),
  bytesPerRecord: Number((journalBytes / total).toFixed(1)),
  verifySeconds: Number(verifySeconds.toFixed(2)),
  cliVerifySeconds: Number(cliSeconds.toFixed(2)),
  proveSeconds: Number(proveSeconds.toFixed(2)),
  proofBytes,
  verifyProofSeconds: Number(verifyProofSeconds.toFixed(2)),
  witnessRoundTripMs: Number(witnessMs.toFixed(2)),
  verified: report.ok && report.records === total,
  segments: report.segments.length,
  lostRecords: journal.lostRecords,
};
console.log(JSON.stringify(result, null, 2));
console.log(
  `append: ${result.appendPerSecond.toLocaleString('en')} records/s, ${result.appendPerCpuSecond.toLocaleString('en')} per CPU second (target ≥ 100,000)  ${result.appendPerSecond >= 100_000 ? 'PASS' : 'FAIL'}; ${result.bytesPerRecord} bytes/record`,
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
    target: '≥ 100,000',
  },
  {
    bench: 'journal',
    metric: `verify --key ${total.toLocaleString('en')} records (CLI)`,
    unit: 's',
    better: 'lower',
    provenant: result.cliVerifySeconds,
    target: '≤ 10 s',
  },
  {
    bench: 'journal',
    metric: `prove (CLI, ${total.toLocaleString('en')} records)`,
    unit: 's',
    better: 'lower',
    provenant: result.proveSeconds,
  },
  { bench: 'journal', metric: 'tlog-proof size', unit: 'bytes', better: 'lower', provenant: result.proofBytes },
  { bench: 'journal', metric: 'verify-proof (CLI)', unit: 's', better: 'lower', provenant: result.verifyProofSeconds },
  {
    bench: 'journal',
    metric: 'witness add-checkpoint round trip (median)',
    unit: 'ms',
    better: 'lower',
    provenant: result.witnessRoundTripMs,
  },
]);
