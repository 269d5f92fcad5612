// The journal's OTLP log export: (1) what exporting costs — a journal of N records exported by the
// export worker to a real OTLP/HTTP sink in another process, wall time and CPU of this process
// (the worker thread; this thread only waits), and the journal (= outbox) bytes per record;
// (2) what it costs an app — a preloaded app doing M labelled writes, with the export to a live
// sink on and off, interleaved rounds, wall time and CPU of the whole app (export worker included).
// Each write goes to a new file, so each is a journal record (repeats of one flow in one context are one record).
// Run after `npm run build`:
//   node bench/log-export.mjs [records = 100000] [appWrites = 5000] [rounds = 3]
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import { openJournal } from '../dist/journal/writer.js';
import { median, reportRows, withoutTelemetryEnv } from './report.mjs';

const total = Number(process.argv[2] ?? 100_000);
const appWrites = Number(process.argv[3] ?? 5_000);
const rounds = Number(process.argv[4] ?? 3);
const here = new URL('.', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'provenant-bench-logs-'));

/** An OTLP/HTTP sink in its own process: answers every export with 200 and nothing else. */
async function startSink() {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `const s = require('node:http').createServer((q, r) => { q.resume(); q.on('end', () => r.writeHead(200, { 'content-type': q.headers['content-type'] }).end()); });
       s.listen(0, '127.0.0.1', () => console.log(s.address().port));`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const line = (await lines.next()).value;
  return { port: Number(line), stop: () => child.kill() };
}

function journalConfig() {
  return {
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
}

async function exportCost(protocol, sink) {
  const stateDir = join(work, `export-${protocol.replace('/', '-')}`);
  const journal = openJournal({ stateDir, config: journalConfig(), service: 'bench', node: 'bench-node', pid: process.pid });
  const labels = { confidentiality: 'secret', integrity: 'high', tags: ['pii'], locations: ['eu-west-1'] };
  for (let i = 0; i < total; i++) {
    journal.append({
      time: Date.now(),
      op: i % 3 === 0 ? 'read' : 'write',
      resource: `file://bench-node/srv/data/out-${i % 1000}.json`,
      sources: ['file://bench-node/srv/data/patients/42.json', 'https://api.example.com:443'],
      labels,
      decision: i % 100 === 0 ? 'deny' : 'allow',
      ...(i % 100 === 0 ? { rule: 'pii-stays-in-eu' } : {}),
      bytes: 4096,
      contentDigest: 'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
    });
  }
  journal.close();
  const dir = join(stateDir, 'journal');
  const journalBytes = readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
  const sizes = Object.fromEntries(readdirSync(dir).map((name) => [name, statSync(join(dir, name)).size]));
  process.env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT = `http://127.0.0.1:${sink.port}/v1/logs`;
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  const worker = new Worker(join(here, '..', 'dist', 'export', 'export-worker.js'), {
    workerData: { provenantExportWorker: true, logs: { stateDir, protocol, version: 'bench', maxLagBytes: 2 ** 40 } },
  });
  const statePath = join(stateDir, 'export', 'otlp-logs.json');
  let lines = 0;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    try {
      const state = JSON.parse(readFileSync(statePath, 'utf8'));
      // Done when the cursor has passed every byte (format 3 segments hold set definitions, which are no records).
      if (Object.entries(sizes).every(([name, size]) => (state.cursors[name]?.offset ?? 0) >= size)) {
        lines = state.exported;
        break;
      }
      if (state.skippedLines > 0) throw new Error('the export skipped lines: ' + JSON.stringify(state.skipped));
    } catch {
      // Not written yet.
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  await worker.terminate();
  return {
    protocol,
    lines,
    journalBytes,
    cursorBytes: statSync(statePath).size,
    recordsPerSecond: lines / seconds,
    cpuMicrosPerRecord: (used.user + used.system) / lines,
  };
}

const APP = `
const fs = require('node:fs');
const path = require('node:path');
const work = process.env.WORK_DIR;
const data = fs.readFileSync(path.join(work, 'secret', 'in.json'));
const started = process.hrtime.bigint();
for (let i = 0; i < Number(process.env.WRITES); i++) fs.writeFileSync(path.join(work, 'secret', 'out-' + i + '.json'), data);
const loopMs = Number(process.hrtime.bigint() - started) / 1e6;
process.on('exit', () => {
  const cpu = process.cpuUsage();
  console.log(JSON.stringify({ loopMs, cpuMs: (cpu.user + cpu.system) / 1000 }));
});
`;

function appRun(exportOn, sink, round) {
  const dir = join(work, `app-${exportOn ? 'on' : 'off'}-${round}`);
  mkdirSync(join(dir, 'secret'), { recursive: true });
  writeFileSync(join(dir, 'secret', 'in.json'), JSON.stringify({ name: 'Ada', id: 42 }));
  writeFileSync(
    join(dir, 'provenant.yaml'),
    'resources:\n  - match: { path: "secret/**" }\n    labels: { confidentiality: secret, tags: [pii] }\njournal: { repeatWindowMs: 0 }\n',
  );
  writeFileSync(join(dir, 'app.cjs'), APP);
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, ['-r', join(here, '..', 'dist', 'register.js'), join(dir, 'app.cjs')], {
    encoding: 'utf8',
    env: {
      ...withoutTelemetryEnv(),
      WORK_DIR: dir,
      WRITES: String(appWrites),
      PROVENANT_CONFIG: join(dir, 'provenant.yaml'),
      PROVENANT_STATE_DIR: join(dir, 'state'),
      OTEL_TRACES_EXPORTER: 'none',
      ...(exportOn
        ? { OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `http://127.0.0.1:${sink.port}/v1/logs`, OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/protobuf' }
        : {}),
    },
  });
  if (result.status !== 0) throw new Error(`app failed: ${result.stderr}`);
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const state = join(dir, 'state', 'export', 'otlp-logs.json');
  let exported = 0;
  try {
    exported = JSON.parse(readFileSync(state, 'utf8')).exported;
  } catch {
    // Export off.
  }
  return { ...JSON.parse(result.stdout.trim().split('\n').at(-1)), wallMs, exported };
}

const sink = await startSink();
try {
  const costs = [];
  for (const protocol of ['http/protobuf', 'http/json']) costs.push(await exportCost(protocol, sink));
  for (const c of costs)
    console.log(
      `export ${c.protocol}: ${c.lines} journal lines, ${c.journalBytes} bytes (${(c.journalBytes / c.lines).toFixed(0)} B/line; ` +
        `${(((c.journalBytes / c.lines) * 1e6) / 2 ** 20).toFixed(0)} MiB per 1M), cursor file ${c.cursorBytes} bytes; ` +
        `${Math.round(c.recordsPerSecond)} records/s, ${c.cpuMicrosPerRecord.toFixed(1)} µs CPU/record`,
    );
  const runs = { off: [], on: [] };
  for (let round = 0; round < rounds; round++) {
    runs.off.push(appRun(false, sink, round));
    runs.on.push(appRun(true, sink, round));
  }
  for (const [name, list] of Object.entries(runs))
    console.log(
      `app ${appWrites} labelled writes, export ${name}: loop ${median(list.map((r) => r.loopMs)).toFixed(0)} ms, ` +
        `process CPU ${median(list.map((r) => r.cpuMs)).toFixed(0)} ms, wall ${median(list.map((r) => r.wallMs)).toFixed(0)} ms, ` +
        `exported at exit ${list.map((r) => r.exported).join('/')} (median of ${rounds}: ${list.map((r) => r.loopMs.toFixed(0)).join(', ')} ms loop)`,
    );
  const perWrite = (list) => median(list.map((r) => r.cpuMs)) / appWrites;
  reportRows([
    {
      bench: 'log-export',
      metric: 'export throughput (http/protobuf)',
      unit: 'records/s',
      better: 'higher',
      provenant: costs[0].recordsPerSecond,
    },
    {
      bench: 'log-export',
      metric: 'export CPU per record (http/protobuf)',
      unit: 'µs',
      better: 'lower',
      provenant: costs[0].cpuMicrosPerRecord,
    },
    {
      bench: 'log-export',
      metric: 'journal (outbox) per 1M records',
      unit: 'MiB',
      better: 'lower',
      provenant: ((costs[0].journalBytes / costs[0].lines) * 1e6) / 2 ** 20,
    },
    {
      bench: 'log-export',
      metric: 'app CPU per labelled write, export off',
      unit: 'µs',
      better: 'lower',
      provenant: perWrite(runs.off) * 1000,
    },
    {
      bench: 'log-export',
      metric: 'app CPU per labelled write, export on',
      unit: 'µs',
      better: 'lower',
      provenant: perWrite(runs.on) * 1000,
    },
  ]);
} finally {
  sink.stop();
  rmSync(work, { recursive: true, force: true });
}
