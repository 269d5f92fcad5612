// Memory and journal growth under a long realistic load: the small JSON handler of bench/http.mjs
// answers N requests (default 300,000) with distinct paths and user ids, plain and with provenant
// (realistic config, signing, journal on). After warm-up and at the end, the server is asked to
// collect garbage and report RSS and heap; the journal's bytes per request are measured on disk.
//
// With --repeat-window-ms 0 every request context journals its flows (no repeat summaries): the
// journal's worst case per request.
//
//   npm run build && node bench/memory.mjs [--requests 300000] [--connections 50] [--repeat-window-ms 0]
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { reportRows, withoutTelemetryEnv } from './report.mjs';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const register = path.join(root, 'dist', 'register.js');

if (process.argv[2] === 'serve') serve();
else await main();

function serve() {
  const http = require('node:http');
  const body = JSON.stringify({ ok: true, note: 'x'.repeat(200) });
  const server = http.createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(body);
  });
  server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
  process.stdin.setEncoding('utf8').on('data', () => {
    globalThis.gc();
    const { rss, heapUsed } = process.memoryUsage();
    console.log(`mem ${rss} ${heapUsed}`);
  });
}

async function main() {
  const args = process.argv.slice(2);
  const option = (name, fallback) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : fallback);
  const total = option('requests', 300_000);
  const connections = option('connections', 50);
  const repeatWindowMs = option('repeat-window-ms', undefined);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'provenant-bench-memory-'));
  const config = path.join(dir, 'provenant.yaml');
  const journal = repeatWindowMs === undefined ? '' : `journal: { repeatWindowMs: ${repeatWindowMs} }\n`;
  writeFileSync(config, `service: bench\nlocation: eu-west-1\ntrust: { peers: ["127.0.0.1"] }\n${journal}`);
  const results = {};
  try {
    for (const variant of ['plain', 'provenant']) {
      const state = path.join(dir, `state-${variant}`);
      results[variant] = await run(variant, { total, connections, config, state });
      process.stderr.write(`${variant}: ${JSON.stringify(results[variant])}\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const mib = (bytes) => (bytes / 2 ** 20).toFixed(1);
  console.log(
    `\nMemory over ${total.toLocaleString('en')} requests (distinct paths and user ids), ${connections} connections${repeatWindowMs === undefined ? '' : `, repeatWindowMs ${repeatWindowMs}`}, Node ${process.version}\n`,
  );
  console.log('| variant | RSS after warm-up MiB | RSS at end MiB | heap after warm-up MiB | heap at end MiB | journal bytes/request |');
  console.log('|---|---|---|---|---|---|');
  for (const [variant, r] of Object.entries(results)) {
    console.log(
      `| ${variant} | ${mib(r.warm.rss)} | ${mib(r.end.rss)} | ${mib(r.warm.heap)} | ${mib(r.end.heap)} | ${variant === 'plain' ? '—' : r.journalPerRequest.toFixed(0)} |`,
    );
  }
  reportRows([
    {
      bench: 'memory',
      metric: `RSS after ${total} requests`,
      unit: 'MiB',
      better: 'lower',
      plain: results.plain.end.rss / 2 ** 20,
      provenant: results.provenant.end.rss / 2 ** 20,
      target: '≤ plain + 64 MiB',
    },
    {
      bench: 'memory',
      metric: `heap after ${total} requests`,
      unit: 'MiB',
      better: 'lower',
      plain: results.plain.end.heap / 2 ** 20,
      provenant: results.provenant.end.heap / 2 ** 20,
    },
    {
      bench: 'memory',
      metric: 'journal per request',
      unit: 'bytes',
      better: 'lower',
      provenant: results.provenant.journalPerRequest,
      target: '≤ 300 bytes',
    },
  ]);
}

async function run(variant, { total, connections, config, state }) {
  const base = withoutTelemetryEnv();
  const preload = variant === 'provenant' ? ['-r', register] : [];
  const child = spawn(process.execPath, ['--expose-gc', ...preload, fileURLToPath(import.meta.url), 'serve'], {
    env: { ...base, PROVENANT_CONFIG: config, PROVENANT_STATE_DIR: state, PROVENANT_KEY: 'bench-key' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = [];
  const waiters = [];
  child.stdout.setEncoding('utf8').on('data', (text) => {
    for (const line of text.split('\n').filter(Boolean)) (waiters.shift() ?? ((l) => lines.push(l)))(line);
  });
  const nextLine = () => (lines.length > 0 ? Promise.resolve(lines.shift()) : new Promise((resolve) => waiters.push(resolve)));
  const memory = async () => {
    child.stdin.write('mem\n');
    const [, rss, heap] = /^mem (\d+) (\d+)$/.exec(await nextLine());
    return { rss: Number(rss), heap: Number(heap) };
  };
  try {
    const port = Number(/^listening (\d+)$/.exec(await nextLine())[1]);
    const warmup = Math.min(20_000, total / 10);
    await load(port, connections, warmup, 0);
    const warm = await memory();
    await load(port, connections, total - warmup, warmup);
    const end = await memory();
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    return { warm, end, journalPerRequest: journalBytes(state) / total };
  } finally {
    child.kill('SIGKILL');
  }
}

async function load(port, connections, amount, offset) {
  const autocannon = require('autocannon');
  let n = offset;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    amount,
    requests: [
      {
        setupRequest: (request) => {
          n++;
          return { ...request, path: `/items/${n}?user=user-${n}`, headers: { ...request.headers, 'x-user-id': `user-${n}` } };
        },
      },
    ],
  });
  if (result.errors + result.non2xx > 0) throw new Error(`${result.errors} errors, ${result.non2xx} non-2xx responses`);
}

function journalBytes(state) {
  const dir = path.join(state, 'journal');
  try {
    return readdirSync(dir).reduce((sum, name) => sum + statSync(path.join(dir, name)).size, 0);
  } catch {
    return 0;
  }
}
