// HTTP throughput and p99 latency, in one run: plain Node, OpenTelemetry's http instrumentation
// alone (TracerProvider + no-op exporter), and provenant (tracking + policy + journal + lineage
// spans, export off). Each variant is a child process serving a small JSON handler that read a
// labelled file once at startup; autocannon drives it over loopback for a fixed duration.
//
//   node bench/http.mjs [--duration 5] [--connections 32]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { reportRows } from './report.mjs';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');

if (process.argv[2] === 'serve') await serve(process.argv[3]);
else await main();

async function serve(variant) {
  if (variant === 'otel') enableOpenTelemetry();
  const http = require('node:http');
  const fs = require('node:fs');
  const record = JSON.parse(fs.readFileSync(process.env.BENCH_DATA, 'utf8'));
  const body = JSON.stringify({ ok: true, record });
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(body);
  });
  server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
}

function enableOpenTelemetry() {
  const { trace, context, propagation } = require('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
  const { W3CTraceContextPropagator } = require('@opentelemetry/core');
  const { BatchSpanProcessor, TracerProvider } = require('@opentelemetry/sdk-trace');
  const { registerInstrumentations } = require('@opentelemetry/instrumentation');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
  const exporter = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} };
  const provider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter })] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  registerInstrumentations({ instrumentations: [new HttpInstrumentation()], tracerProvider: provider });
}

async function main() {
  const args = process.argv.slice(2);
  const option = (name, fallback) => {
    const at = args.indexOf(`--${name}`);
    return at === -1 ? fallback : Number(args[at + 1]);
  };
  const duration = option('duration', 5);
  const connections = option('connections', 32);
  const autocannon = require('autocannon');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'provenant-bench-'));
  const data = path.join(dir, 'record.json');
  writeFileSync(data, JSON.stringify({ id: 42, name: 'Ada Lovelace', born: 1815, notes: 'x'.repeat(200) }));
  const config = path.join(dir, 'provenant.yaml');
  writeFileSync(
    config,
    `service: bench\nresources:\n  - match: { path: "${data}" }\n    labels: { confidentiality: internal, integrity: high, tags: [bench] }\n  - match: { host: "127.0.0.1" }\n    labels: { confidentiality: internal }\n`,
  );
  const variants = [
    { name: 'plain node', preload: [], variant: 'plain' },
    { name: 'otel http instrumentation', preload: [], variant: 'otel' },
    { name: 'provenant', preload: ['-r', path.join(root, 'dist', 'register.js')], variant: 'provenant' },
  ];
  const results = {};
  try {
    for (const v of variants) {
      const env = {
        ...cleanEnv(),
        BENCH_DATA: data,
        PROVENANT_CONFIG: config,
        PROVENANT_STATE_DIR: path.join(dir, 'state'),
        PROVENANT_KEY: 'bench-key',
      };
      const child = spawn(process.execPath, [...v.preload, fileURLToPath(import.meta.url), 'serve', v.variant], {
        env,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const port = await new Promise((resolve, reject) => {
        child.stdout.setEncoding('utf8').on('data', (text) => {
          const match = /listening (\d+)/.exec(text);
          if (match) resolve(Number(match[1]));
        });
        child.once('exit', (code) => reject(new Error(`${v.name} server exited with ${code}`)));
      });
      const url = `http://127.0.0.1:${port}/`;
      await autocannon({ url, connections, duration: 1 }); // warm-up (JIT, caches)
      const r = await autocannon({ url, connections, duration });
      results[v.name] = { rps: r.requests.average, p99: r.latency.p99, errors: r.errors + r.non2xx };
      child.kill();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\nHTTP bench: ${duration} s per variant, ${connections} connections, Node ${process.version}, ${os.cpus().length} CPUs\n`);
  console.log('variant                      req/s     p99 ms   errors');
  for (const [name, r] of Object.entries(results)) {
    console.log(`${name.padEnd(26)} ${r.rps.toFixed(0).padStart(8)} ${String(r.p99).padStart(10)} ${String(r.errors).padStart(8)}`);
  }
  const plain = results['plain node'].rps;
  const otel = results['otel http instrumentation'].rps;
  const prov = results.provenant.rps;
  console.log(`\nprovenant / plain node: ${(prov / plain).toFixed(2)}× (target ≥ 0.85×)`);
  console.log(`provenant / otel http:  ${(prov / otel).toFixed(2)}× (target ≥ 0.90×)`);
  console.log(`otel http / plain node: ${(otel / plain).toFixed(2)}×`);
  const latency = (name) => results[name].p99;
  reportRows([
    {
      bench: 'http',
      metric: `throughput, ${connections} connections`,
      unit: 'req/s',
      better: 'higher',
      plain,
      otel,
      provenant: prov,
      target: '≥ 0.85× plain, ≥ 0.9× OTel',
    },
    {
      bench: 'http',
      metric: 'p99 latency',
      unit: 'ms',
      better: 'lower',
      plain: latency('plain node'),
      otel: latency('otel http instrumentation'),
      provenant: latency('provenant'),
    },
  ]);
}

function cleanEnv() {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('OTEL_') || key.startsWith('PROVENANT_') || key === 'NODE_OPTIONS') continue;
    env[key] = value;
  }
  return env;
}
