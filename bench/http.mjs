// HTTP on realistic paths, in one run: plain Node, OpenTelemetry's http + undici + fs
// instrumentation (spans batched to a dropping exporter), and provenant with a realistic config
// (labelled files, a residency rule, trusted peers with PROVENANT_KEY so every response to a peer
// is signed, journal on, export off). Variants are interleaved over several rounds; each figure is
// the median with the range across rounds.
//
// Workloads:
//   tiny      a small JSON handler, keep-alive (autocannon), distinct paths and user ids
//   express   express 5 reads a labelled JSON file per request (one of 100 patients) and returns it
//   chain     a front service calls a back service with fetch per request (both under the variant)
//   close     one request per connection (Connection: close), the small JSON handler
//
//   npm run build && node bench/http.mjs [--duration 10] [--rounds 3] [--connections 50] [--only tiny,express]
//     [--before OTHER/dist/register.js]   also runs provenant from another build (`before`), interleaved,
//                                         and reports this build against it: a before/after in one run
//     [--variants provenant,before]       run only these variants
//     [--server-args '--cpu-prof --cpu-prof-dir=DIR']   extra node options for every server (they exit
//                                         cleanly when measured, so profiles are written)
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, reportRows, spread, withoutTelemetryEnv } from './report.mjs';
import { realisticConfig } from './realistic-config.mjs';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const register = path.join(root, 'dist', 'register.js');
const VARIANTS = ['plain', 'otel', 'provenant'];
/** `--before`: the register.js of another build, run as the variant `before`. */
const beforeAt = process.argv.indexOf('--before');
const beforeRegister = beforeAt === -1 ? undefined : path.resolve(process.argv[beforeAt + 1]);
const variantsAt = process.argv.indexOf('--variants');
const variants =
  variantsAt !== -1
    ? process.argv[variantsAt + 1].split(',')
    : beforeRegister === undefined
      ? VARIANTS
      : ['plain', 'otel', 'before', 'provenant'];
const serverArgsAt = process.argv.indexOf('--server-args');
const serverArgs = serverArgsAt === -1 ? [] : process.argv[serverArgsAt + 1].split(' ').filter(Boolean);
const WORKLOADS = ['tiny', 'express', 'chain', 'close'];

if (process.argv[2] === 'serve') await serve(process.argv[3], process.argv[4]);
else await main();

/** A server of one workload; prints `listening PORT`, answers `cpu` on stdin with its CPU time in µs. */
async function serve(variant, workload) {
  // A preload that fails to start (a build without its node_modules) leaves a plain server: measuring it as provenant would be a false figure.
  if ((variant === 'provenant' || variant === 'before') && globalThis[Symbol.for('provenant.runtime')] === undefined) {
    throw new Error(`${variant}: provenant did not start in this server (see its error above)`);
  }
  const spans = variant === 'otel' ? enableOpenTelemetry() : undefined;
  // required after OpenTelemetry is enabled: its http instrumentation patches on `require`, and
  // this file's own `import http` ran before it (a server made through that import was not traced)
  const http = require('node:http');
  const fs = require('node:fs');
  const body = JSON.stringify({ ok: true, note: 'x'.repeat(200) });
  let handler;
  if (workload === 'express') {
    const express = require('express');
    const app = express();
    app.get('/patients/:id', async (req, res) => {
      const text = await fs.promises.readFile(path.join(process.env.BENCH_DATA, `${Number(req.params.id) % 100}.json`), 'utf8');
      res.type('application/json').send(text);
    });
    handler = app;
  } else if (workload === 'chain') {
    const back = process.env.BENCH_BACK;
    handler = async (req, res) => {
      const upstream = await fetch(`${back}${req.url}`);
      const text = await upstream.text();
      // a refused back (403) must fail the run, not be measured as a cheap answer
      res.statusCode = upstream.ok ? 200 : 502;
      res.setHeader('content-type', 'application/json');
      res.end(`{"front":true,"back":${text}}`);
    };
  } else {
    handler = (req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(body);
    };
  }
  const server = http.createServer(handler);
  server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
  process.stdin.setEncoding('utf8').on('data', (text) => {
    // `exit` rather than a signal: a clean exit writes --cpu-prof / --heap-prof profiles
    if (text.includes('exit')) process.exit(0);
    const { user, system } = process.cpuUsage();
    console.log(`cpu ${user + system} spans ${spans?.count ?? -1}`);
  });
}

/** Enables OpenTelemetry's instrumentation; the returned counter is the number of spans it has ended so far. */
function enableOpenTelemetry() {
  const { trace, context, propagation } = require('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
  const { W3CTraceContextPropagator } = require('@opentelemetry/core');
  const { BatchSpanProcessor, TracerProvider } = require('@opentelemetry/sdk-trace');
  const { registerInstrumentations } = require('@opentelemetry/instrumentation');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
  const { UndiciInstrumentation } = require('@opentelemetry/instrumentation-undici');
  const { FsInstrumentation } = require('@opentelemetry/instrumentation-fs');
  const exporter = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} };
  const ended = { count: 0 };
  // counts spans as they end (before batching), so a round that traced nothing is caught without waiting for a flush
  const counter = { onStart() {}, onEnd: () => ended.count++, forceFlush: async () => {}, shutdown: async () => {} };
  const provider = new TracerProvider({ spanProcessors: [counter, new BatchSpanProcessor({ exporter })] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  registerInstrumentations({
    instrumentations: [new HttpInstrumentation(), new UndiciInstrumentation(), new FsInstrumentation()],
    tracerProvider: provider,
  });
  return ended;
}

async function main() {
  const args = process.argv.slice(2);
  const option = (name, fallback) => {
    const at = args.indexOf(`--${name}`);
    return at === -1 ? fallback : args[at + 1];
  };
  const duration = Number(option('duration', 10));
  const rounds = Number(option('rounds', 3));
  const connections = Number(option('connections', 50));
  const workloads = option('only', WORKLOADS.join(',')).split(',');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'provenant-bench-http-'));
  const data = path.join(dir, 'patients');
  mkdirSync(data);
  for (let i = 0; i < 100; i++) writeFileSync(path.join(data, `${i}.json`), JSON.stringify({ id: i, name: `patient ${i}`, hba1c: 7.1 }));
  const config = path.join(dir, 'provenant.yaml');
  writeFileSync(config, realisticConfig(data));
  /** results[workload][variant] = [{ rps, cpuPerRequest }] per round */
  const results = Object.fromEntries(workloads.map((w) => [w, Object.fromEntries(variants.map((v) => [v, []]))]));
  try {
    for (let round = 0; round < rounds; round++) {
      for (const workload of workloads) {
        for (const variant of variants) {
          const state = path.join(dir, `state-${workload}-${variant}-${round}`);
          const measured = await measure({ variant, workload, duration, connections, data, config, state });
          results[workload][variant].push(measured);
          process.stderr.write(
            `round ${round + 1}/${rounds} ${workload.padEnd(8)} ${variant.padEnd(9)} ${measured.rps.toFixed(0).padStart(7)} req/s ` +
              `${measured.cpuPerRequest.toFixed(1).padStart(6)} µs CPU/req` +
              (measured.perServer.length > 1 ? ` (back ${measured.perServer.map((v) => v.toFixed(1)).join(' + front ')})` : '') +
              '\n',
          );
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (['plain', 'otel', 'provenant'].every((v) => variants.includes(v))) report(results, { duration, rounds, connections });
  else if (variants.includes('before') && variants.includes('provenant')) reportBefore(results);
}

async function measure({ variant, workload, duration, connections, data, config, state }) {
  const env = {
    ...withoutTelemetryEnv(),
    BENCH_DATA: data,
    PROVENANT_CONFIG: config,
    PROVENANT_STATE_DIR: state,
    PROVENANT_KEY: 'bench-key',
  };
  const servers = [];
  try {
    let back;
    if (workload === 'chain') {
      back = await startServer(variant, 'tiny', env);
      servers.push(back);
    }
    const front = await startServer(variant, workload, back ? { ...env, BENCH_BACK: `http://127.0.0.1:${back.port}` } : env);
    servers.push(front);
    const url = `http://127.0.0.1:${front.port}`;
    const load = workload === 'close' ? closeLoad : keepAliveLoad;
    await load(url, connections, 1); // warm-up: JIT, caches, pools
    const before = await Promise.all(servers.map(cpuOf));
    const requests = await load(url, connections, duration);
    const after = await Promise.all(servers.map(cpuOf));
    // OpenTelemetry must have traced every measured request on every server: a round that did not measures plain Node
    after.forEach((value, i) => {
      if (variant === 'otel' && value.spans - before[i].spans < requests) {
        throw new Error(`otel ${workload}: ${value.spans - before[i].spans} spans for ${requests} requests: not instrumented`);
      }
    });
    const perServer = after.map((value, i) => (value.cpu - before[i].cpu) / requests);
    return { rps: requests / duration, cpuPerRequest: perServer.reduce((sum, value) => sum + value, 0), perServer };
  } finally {
    await Promise.all(servers.map(stop));
  }
}

function stop(server) {
  if (server.child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    server.child.once('exit', resolve);
    server.child.stdin.write('exit\n');
  });
}

function startServer(variant, workload, env) {
  const preload = variant === 'provenant' ? ['-r', register] : variant === 'before' ? ['-r', beforeRegister] : [];
  const child = spawn(process.execPath, [...serverArgs, ...preload, fileURLToPath(import.meta.url), 'serve', variant, workload], {
    env,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = [];
  let waiting;
  child.stdout.setEncoding('utf8').on('data', (text) => {
    for (const line of text.split('\n').filter(Boolean)) {
      if (waiting) waiting(line);
      else lines.push(line);
    }
  });
  const nextLine = () =>
    lines.length > 0
      ? Promise.resolve(lines.shift())
      : new Promise((resolve) => (waiting = (line) => ((waiting = undefined), resolve(line))));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${variant} ${workload} server exited with ${code}`)));
    nextLine().then((line) => {
      const match = /^listening (\d+)$/.exec(line);
      if (!match) reject(new Error(`unexpected server output: ${line}`));
      else resolve({ child, port: Number(match[1]), nextLine });
    });
  });
}

/** The server's CPU time so far (µs) and, under OpenTelemetry, the spans it has ended. */
async function cpuOf(server) {
  server.child.stdin.write('cpu\n');
  const line = await server.nextLine();
  const [, cpu, spans] = /^cpu (\d+) spans (-?\d+)$/.exec(line);
  return { cpu: Number(cpu), spans: Number(spans) };
}

/** autocannon over keep-alive connections; every request has its own path and user id. */
async function keepAliveLoad(url, connections, duration) {
  const autocannon = require('autocannon');
  let n = 0;
  const result = await autocannon({
    url,
    connections,
    duration,
    requests: [
      {
        setupRequest: (request) => {
          n++;
          return {
            ...request,
            path: `/patients/${n % 100}?request=${n}`,
            headers: { ...request.headers, 'x-user-id': `user-${n % 5000}` },
          };
        },
      },
    ],
  });
  if (result.errors + result.non2xx > 0) throw new Error(`${result.errors} errors, ${result.non2xx} non-2xx responses`);
  return result.requests.total;
}

/** `connections` loops, each sending one request per new connection until `duration` seconds have passed. */
async function closeLoad(url, connections, duration) {
  const deadline = performance.now() + duration * 1000;
  let done = 0;
  let n = 0;
  const one = () =>
    new Promise((resolve, reject) => {
      n++;
      const request = http.get(
        `${url}/patients/${n % 100}?request=${n}`,
        { agent: false, headers: { connection: 'close', 'x-user-id': `user-${n % 5000}` } },
        (response) => {
          response.resume();
          response.on('end', () => (response.statusCode === 200 ? resolve() : reject(new Error(`status ${response.statusCode}`))));
        },
      );
      request.on('error', reject);
    });
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline) {
        await one();
        done++;
      }
    }),
  );
  return done;
}

function report(results, { duration, rounds, connections }) {
  console.log(
    `\nHTTP, realistic paths: ${rounds} rounds × ${duration} s per variant, ${connections} connections, Node ${process.version}, ${os.cpus().length} CPUs`,
  );
  console.log('median (min–max across rounds)\n');
  console.log(
    '| workload | plain req/s | OTel req/s | provenant req/s | provenant ÷ plain | provenant ÷ OTel | CPU µs/req plain / OTel / provenant |',
  );
  console.log('|---|---|---|---|---|---|---|');
  const rows = [];
  for (const [workload, byVariant] of Object.entries(results)) {
    const rps = (v) => byVariant[v].map((r) => r.rps);
    const cpu = (v) => median(byVariant[v].map((r) => r.cpuPerRequest));
    const ratios = (base) => byVariant.provenant.map((r, i) => r.rps / byVariant[base][i].rps);
    console.log(
      `| ${workload} | ${spread(rps('plain'), 0)} | ${spread(rps('otel'), 0)} | ${spread(rps('provenant'), 0)} | ` +
        `${spread(ratios('plain'), 2)}× | ${spread(ratios('otel'), 2)}× | ${cpu('plain').toFixed(0)} / ${cpu('otel').toFixed(0)} / ${cpu('provenant').toFixed(0)} |`,
    );
    rows.push({
      bench: 'http',
      metric: `${workload}: throughput`,
      unit: 'req/s',
      better: 'higher',
      plain: median(rps('plain')),
      otel: median(rps('otel')),
      provenant: median(rps('provenant')),
      range: `provenant ÷ plain ${spread(ratios('plain'), 2)}`,
    });
    rows.push({
      bench: 'http',
      metric: `${workload}: server CPU per request`,
      unit: 'µs',
      better: 'lower',
      plain: cpu('plain'),
      otel: cpu('otel'),
      provenant: cpu('provenant'),
    });
  }
  if (beforeRegister !== undefined) reportBefore(results);
  reportRows(rows);
}

/** This build against the `--before` build, same rounds: median (min–max), the ratio per round. */
function reportBefore(results) {
  console.log(`\nprovenant (this build) against before (${beforeRegister})\n`);
  console.log('| workload | before req/s | after req/s | after ÷ before | CPU µs/req before | CPU µs/req after |');
  console.log('|---|---|---|---|---|---|');
  for (const [workload, byVariant] of Object.entries(results)) {
    const rps = (v) => byVariant[v].map((r) => r.rps);
    const cpu = (v) => byVariant[v].map((r) => r.cpuPerRequest);
    const ratios = byVariant.provenant.map((r, i) => r.rps / byVariant.before[i].rps);
    console.log(
      `| ${workload} | ${spread(rps('before'), 0)} | ${spread(rps('provenant'), 0)} | ${spread(ratios, 2)}× | ` +
        `${spread(cpu('before'), 1)} | ${spread(cpu('provenant'), 1)} |`,
    );
  }
}
