// Memory and journal growth under a long realistic load, plain vs provenant (realistic config:
// labelled files, a residency rule, a trusted peer, PROVENANT_KEY set, journal on, export off).
//
// Distinct users, as provenant can see them: provenant records no request header (an
// `x-user-id` header is invisible to it) and names an end user only when the app passes one to
// `provenant.run(fn, { user })`. What it does see of a user in an unmodified app is the request
// path (`url.path`, recorded on the server's records) and the data read for that user. So request
// n asks for `/users/n` and the handler reads that user's own labelled file `users/n.json`: every
// request is a new path, a new file resource, a new file identity and a new provenance set —
// every per-resource structure of provenant grows unless it is bounded.
// RSS and heap (after a full GC) are sampled --samples times along the run.
//
// Then the journal's bytes per request for a request that repeats known flows: the same
// handler shape, every user reading one shared labelled file (`/users/n`, so the paths still
// differ), with the default repeatWindowMs and with 0 (every request context journaled).
//
// --repeat-only skips the long distinct-user runs (~12 min at 300k requests) and measures only
// the journal bytes of repeating requests (under a minute), for iterating on the journal format.
//
//   npm run build && node bench/memory.mjs [--requests 300000] [--connections 50] [--samples 10] [--repeat-requests 20000] [--repeat-only] [--keep] [--gc]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { reportRows, withoutTelemetryEnv } from './report.mjs';
import { realisticConfig } from './realistic-config.mjs';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const register = path.join(root, 'dist', 'register.js');

if (process.argv[2] === 'serve') serve(process.argv[3], process.argv[4]);
else await main();

function serve(data, workload) {
  const fs = require('node:fs');
  const http = require('node:http');
  const server = http.createServer((req, res) => {
    const id = /^\/users\/(\d+)/.exec(req.url)?.[1] ?? '0';
    const file = workload === 'users' ? path.join(data, 'users', `${id}.json`) : path.join(data, 'shared.json');
    fs.readFile(file, (error, body) => {
      if (error) {
        res.statusCode = 500;
        res.end();
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(body);
    });
  });
  server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
  const v8 = require('node:v8');
  process.stdin.setEncoding('utf8').on('data', (line) => {
    globalThis.gc();
    const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
    const young = v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;
    console.log(`mem ${rss} ${heapUsed} ${heapTotal} ${young} ${external}`);
    if (line.startsWith('snapshot ')) v8.writeHeapSnapshot(line.slice('snapshot '.length).trim());
  });
}

async function main() {
  const args = process.argv.slice(2);
  const option = (name, fallback) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : fallback);
  const total = option('requests', 300_000);
  const connections = option('connections', 50);
  const samples = option('samples', 10);
  const repeatRequests = option('repeat-requests', 20_000);
  const repeatOnly = args.includes('--repeat-only');
  // For iterating: --variants provenant, --repeat-requests 0 (skips the journal runs), --detail
  // (each sample's heapTotal, young generation and external memory on stderr), --snapshots DIR
  // (a heap snapshot of provenant's server at each sample), --node-args '...' (e.g. V8 flags),
  // --compare DIST (adds the variant `compare`: provenant from another build's dist folder),
  // --gc (V8's --trace-gc-nvp, summed: bytes allocated, surviving scavenges and promoted per request).
  const text = (name, fallback) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : fallback);
  const compare = text('compare');
  const variants = text('variants', compare === undefined ? 'plain,provenant' : 'plain,compare,provenant').split(',');
  const tuning = {
    detail: args.includes('--detail'),
    snapshots: text('snapshots'),
    nodeArgs: text('node-args', '').split(' ').filter(Boolean),
    gc: args.includes('--gc'),
    compareRegister: compare === undefined ? undefined : path.resolve(compare, 'register.js'),
  };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'provenant-bench-memory-'));
  const data = path.join(dir, 'data');
  mkdirSync(path.join(data, 'users'), { recursive: true });
  for (let n = 1; n <= (repeatOnly ? 0 : Math.max(total, repeatRequests)); n++)
    writeFileSync(path.join(data, 'users', `${n}.json`), JSON.stringify({ id: n, name: `user ${n}`, plan: 'basic' }));
  writeFileSync(path.join(data, 'shared.json'), JSON.stringify({ ok: true, note: 'x'.repeat(200) }));
  const config = (repeatWindowMs) => {
    const file = path.join(dir, `provenant-${repeatWindowMs ?? 'default'}.yaml`);
    let text = realisticConfig(data, repeatWindowMs === undefined ? undefined : `{ repeatWindowMs: ${repeatWindowMs} }`);
    // A heap snapshot holds everything the process read: its folder is labelled to receive it.
    if (tuning.snapshots !== undefined)
      text = text.replace(
        'resources:\n',
        `resources:\n  - match: { path: "${tuning.snapshots}/**" }\n    labels: { confidentiality: secret, location: eu-west-1 }\n`,
      );
    writeFileSync(file, text);
    return file;
  };
  const results = {};
  const repeats = {};
  try {
    for (const variant of repeatOnly ? [] : variants) {
      const state = path.join(dir, `state-${variant}`);
      results[variant] = await run(variant, { workload: 'users', total, samples, connections, data, config: config(), state, ...tuning });
      process.stderr.write(`${variant}: ${JSON.stringify(results[variant])}\n`);
    }
    for (const repeatWindowMs of repeatRequests > 0 ? [undefined, 0] : []) {
      const state = path.join(dir, `state-repeat-${repeatWindowMs ?? 'default'}`);
      const options = { workload: 'repeat', total: repeatRequests, samples: 1, connections, data, config: config(repeatWindowMs), state };
      repeats[repeatWindowMs ?? 'default'] = await run('provenant', options);
    }
  } finally {
    if (args.includes('--keep')) process.stderr.write(`kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
  const repeatLine =
    repeatRequests > 0 &&
    `journal for ${repeatRequests.toLocaleString('en')} requests repeating known flows: ${repeats.default.journalPerRequest.toFixed(1)} bytes/request (default repeatWindowMs), ${repeats[0].journalPerRequest.toFixed(0)} bytes/request (repeatWindowMs 0)`;
  const repeatRows = !repeatLine
    ? []
    : [
        {
          bench: 'memory',
          metric: 'journal per repeated request (default window)',
          unit: 'bytes',
          better: 'lower',
          provenant: repeats.default.journalPerRequest,
          target: '≤ 300 bytes',
        },
        {
          bench: 'memory',
          metric: 'journal per repeated request (repeatWindowMs 0)',
          unit: 'bytes',
          better: 'lower',
          provenant: repeats[0].journalPerRequest,
          target: '≤ 300 bytes',
        },
      ];
  if (repeatOnly) {
    console.log(repeatLine);
    reportRows(repeatRows);
    return;
  }
  console.log(
    `\nMemory over ${total.toLocaleString('en')} requests, each a distinct user (its own path and its own labelled file), ${connections} connections, Node ${process.version}\n`,
  );
  // heap: used after a full GC; committed: V8's heapTotal, of which young: the young generation.
  console.log(`| requests | ${variants.map((v) => `${v} RSS MiB | ${v} heap MiB | ${v} committed (young) MiB`).join(' | ')} |`);
  console.log(`|---|${variants.map(() => '---|---|---|').join('')}`);
  results[variants[0]].samples.forEach((first, i) => {
    const cells = variants.map((v) => {
      const at = results[v].samples[i];
      return `${mib(at.rss)} | ${mib(at.heap)} | ${mib(at.heapTotal)} (${mib(at.young)})`;
    });
    console.log(`| ${first.requests.toLocaleString('en')} | ${cells.join(' | ')} |`);
  });
  console.log(`\nreq/s over the run: ${variants.map((v) => `${v} ${results[v].reqPerSec.toFixed(0)}`).join(', ')}`);
  if (tuning.gc)
    for (const v of variants) {
      const { allocated, survived, promoted, scavenges, fullGcs } = results[v].gc;
      const per = (bytes) => (bytes / total).toFixed(0);
      console.log(
        `${v}: ${per(allocated)} bytes allocated, ${per(survived)} surviving a scavenge and ${per(promoted)} promoted per request (${scavenges} scavenges, ${fullGcs} full GCs)`,
      );
    }
  if (!variants.includes('plain') || !variants.includes('provenant') || repeatRequests === 0) return;
  const warm = (r) => r.samples[0];
  const end = (r) => r.samples[r.samples.length - 1];
  const growth = (r) => end(r).heap - warm(r).heap;
  console.log(
    `\nheap growth after the first sample: plain ${mib(growth(results.plain))} MiB, provenant ${mib(growth(results.provenant))} MiB; ` +
      `journal ${results.provenant.journalPerRequest.toFixed(0)} bytes/request (distinct files: no flow repeats)`,
  );
  console.log(repeatLine);
  reportRows([
    {
      bench: 'memory',
      metric: `RSS after ${total} distinct-user requests`,
      unit: 'MiB',
      better: 'lower',
      plain: end(results.plain).rss / 2 ** 20,
      provenant: end(results.provenant).rss / 2 ** 20,
      target: '≤ plain + 64 MiB',
    },
    {
      bench: 'memory',
      metric: `heap after ${total} distinct-user requests`,
      unit: 'MiB',
      better: 'lower',
      plain: end(results.plain).heap / 2 ** 20,
      provenant: end(results.provenant).heap / 2 ** 20,
    },
    {
      bench: 'memory',
      metric: 'heap growth after the first sample',
      unit: 'MiB',
      better: 'lower',
      plain: growth(results.plain) / 2 ** 20,
      provenant: growth(results.provenant) / 2 ** 20,
      target: 'flat',
    },
    {
      bench: 'memory',
      metric: 'journal per distinct-user request',
      unit: 'bytes',
      better: 'lower',
      provenant: results.provenant.journalPerRequest,
    },
    ...repeatRows,
  ]);
}

function mib(bytes) {
  return (bytes / 2 ** 20).toFixed(1);
}

async function run(
  variant,
  { workload, total, samples, connections, data, config, state, detail, snapshots, nodeArgs = [], compareRegister, gc = false },
) {
  const base = withoutTelemetryEnv();
  const preload = variant === 'plain' ? [] : ['-r', variant === 'compare' ? compareRegister : register];
  const child = spawn(
    process.execPath,
    ['--expose-gc', ...(gc ? ['--trace-gc-nvp'] : []), ...nodeArgs, ...preload, fileURLToPath(import.meta.url), 'serve', data, workload],
    {
      env: { ...base, PROVENANT_CONFIG: config, PROVENANT_STATE_DIR: state, PROVENANT_KEY: 'bench-key' },
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const lines = [];
  const waiters = [];
  const gcTotals = { allocated: 0, survived: 0, promoted: 0, scavenges: 0, fullGcs: 0 };
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (text) => {
    const complete = (partial + text).split('\n');
    partial = complete.pop();
    // Only the server's own lines: V8 tracing flags given with --node-args print to stdout too.
    for (const line of complete.filter((l) => /^(listening|mem) /.test(l))) (waiters.shift() ?? ((l) => lines.push(l)))(line);
    if (gc) for (const line of complete) addGc(gcTotals, line);
  });
  const nextLine = () => (lines.length > 0 ? Promise.resolve(lines.shift()) : new Promise((resolve) => waiters.push(resolve)));
  const memory = async (requests) => {
    const snapshot = snapshots !== undefined && variant === 'provenant' ? path.join(snapshots, `${requests}.heapsnapshot`) : undefined;
    child.stdin.write(snapshot === undefined ? 'mem\n' : `snapshot ${snapshot}\n`);
    const [, rss, heap, heapTotal, young, external] = /^mem (\d+) (\d+) (\d+) (\d+) (\d+)$/.exec(await nextLine());
    const sample = {
      requests,
      rss: Number(rss),
      heap: Number(heap),
      heapTotal: Number(heapTotal),
      young: Number(young),
      external: Number(external),
    };
    if (detail) {
      const shown = Object.entries(sample).map(([key, value]) => `${key} ${key === 'requests' ? value : mib(value)}`);
      process.stderr.write(`${variant}: ${shown.join(', ')}\n`);
    }
    return sample;
  };
  try {
    const port = Number(/^listening (\d+)$/.exec(await nextLine())[1]);
    const measured = [];
    let loadMs = 0;
    let done = 0;
    for (let i = 1; i <= samples; i++) {
      const upTo = Math.round((total * i) / samples);
      const started = performance.now();
      await load(port, connections, upTo - done, done, total);
      loadMs += performance.now() - started;
      done = upTo;
      measured.push(await memory(done));
    }
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    return { samples: measured, journalPerRequest: journalBytes(state) / total, reqPerSec: (total * 1000) / loadMs, gc: gcTotals };
  } finally {
    child.kill('SIGKILL');
  }
}

/** Adds one --trace-gc-nvp line (`name=value` pairs) to the totals: a scavenge's bytes, or a count of full GCs. */
function addGc(totals, line) {
  if (/ gc=(mc|mmc) /.test(line)) totals.fullGcs++;
  if (!/ gc=s /.test(line)) return;
  const value = (name) => Number(new RegExp(` ${name}=(\\d+)`).exec(line)?.[1] ?? 0);
  totals.scavenges++;
  totals.allocated += value('allocated');
  totals.survived += value('new_space_survived');
  totals.promoted += value('promoted');
}

/** Requests offset+1 … offset+amount, for users 1 … users (a request autocannon sends again wraps round). */
async function load(port, connections, amount, offset, users) {
  const autocannon = require('autocannon');
  let n = offset;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    amount,
    requests: [{ setupRequest: (request) => ({ ...request, path: `/users/${(n++ % users) + 1}` }) }],
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
