// fs hot-path benchmark: plain Node vs @opentelemetry/instrumentation-fs vs provenant, same
// operations, steady state (the same flow repeated). Each variant runs in its own child
// process; variants are interleaved over several rounds and the median is reported.
//
//   npm run build && node bench/fs.mjs [--rounds 5] [--only 'synchronous|completion']
//
// `--only <text>[|<text>…]`: only the operations whose name contains one of the texts.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, reportRows, withoutTelemetryEnv } from './report.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const register = join(repo, 'dist', 'register.js');
const VARIANTS = ['plain', 'otel-fs', 'provenant'];

/**
 * Operations measured; `iterations` per sample keeps each sample ~0.1–0.5 s. `otel: false`:
 * instrumentation-fs does not patch it. `target`: the ratio provenant must stay within.
 */
const ALL_OPS = [
  { name: 'writeSync 64 B (fd)', iterations: 100_000, otel: false, target: '≤ 1.10× plain' },
  { name: 'readFileSync 256 B', iterations: 40_000, target: '≤ 1.10× plain' },
  { name: "readFileSync 256 B 'utf8'", iterations: 40_000 },
  { name: 'writeFileSync 256 B', iterations: 1_500 },
  { name: 'fs.promises.readFile 256 B', iterations: 1_500 },
  // File identity: a name resolved once (realpath + stat) and cached; a rename drops the cache.
  { name: 'readFileSync 256 B via a symlink', iterations: 40_000 },
  { name: 'atomic rewrite 256 B (writeFileSync tmp + renameSync)', iterations: 500 },
  // The part of an asynchronous write that runs on the caller's thread before it returns, each to
  // a new file (a new (file, provenance) pair: the store commits) or each to the same file (a
  // repeated flow), from a context that read a labelled file. Percentiles over `iterations` calls.
  ...['p50', 'p99'].flatMap((p) =>
    [
      ['fs.promises.writeFile 256 B, new file', 'promise'],
      ['fs.writeFile (callback) 256 B, new file', 'callback'],
      ['fs.promises.writeFile 256 B, same file', 'promise-same'],
    ].map(([call, syncPart]) => ({
      name: `${call}: synchronous part ${p}`,
      iterations: 2_000,
      syncPart,
      percentile: p === 'p50' ? 0.5 : 0.99,
      target: '≤ 1.2× plain',
    })),
  ),
  // The same writes from the call to their completion (one at a time): what an app waits per write.
  { name: 'fs.promises.writeFile 256 B, new file: call to completion', iterations: 2_000, syncPart: 'promise', total: true },
  { name: 'fs.promises.writeFile 256 B, same file: call to completion', iterations: 2_000, syncPart: 'promise-same', total: true },
];
const SAMPLES = 7;
/** The asynchronous writes' context reads a labelled file and writes into a labelled folder; nothing else is labelled. */
const LABELLED_CONFIG = `resources:
  - match: { path: "labelled/source.bin" }
    labels: { confidentiality: confidential, tags: [pii] }
  - match: { path: "labelled/**" }
    labels: { confidentiality: confidential }
`;
const onlyFlag = process.argv.indexOf('--only');
// Children inherit the filter through the environment.
if (onlyFlag > 0) process.env.PROVENANT_BENCH_FS_ONLY = process.argv[onlyFlag + 1];
const only = process.env.PROVENANT_BENCH_FS_ONLY;
const OPS = only ? ALL_OPS.filter((op) => only.split('|').some((text) => op.name.includes(text))) : ALL_OPS;

if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4]);
else parent();

function parent() {
  if (!existsSync(register)) {
    console.error('dist/register.js is missing: run `npm run build` first');
    process.exit(1);
  }
  const roundsFlag = process.argv.indexOf('--rounds');
  const rounds = roundsFlag > 0 ? Number(process.argv[roundsFlag + 1]) : 5;
  const dir = mkdtempSync(join(tmpdir(), 'provenant-bench-'));
  const results = Object.fromEntries(VARIANTS.map((v) => [v, Object.fromEntries(OPS.map((op) => [op.name, []]))]));
  try {
    for (let round = 0; round < rounds; round++) {
      for (const variant of VARIANTS) {
        const work = join(dir, `${variant}-${round}`);
        const preload = variant === 'provenant' ? ['-r', register] : [];
        mkdirSync(work, { recursive: true });
        writeFileSync(join(work, 'provenant.yaml'), LABELLED_CONFIG);
        const env = {
          ...withoutTelemetryEnv(process.env),
          PROVENANT_STATE_DIR: join(work, 'state'),
          PROVENANT_CONFIG: join(work, 'provenant.yaml'),
        };
        const run = spawnSync(process.execPath, [...preload, fileURLToPath(import.meta.url), '--child', variant, work], {
          env,
          encoding: 'utf8',
        });
        if (run.status !== 0) throw new Error(`${variant} child failed (${run.status}):\n${run.stderr}`);
        const measured = JSON.parse(run.stdout.trim().split('\n').pop());
        for (const op of OPS) results[variant][op.name].push(measured[op.name]);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  report(results, rounds);
}

function report(results, rounds) {
  console.log(
    `fs hot path, steady state — node ${process.version}, ${rounds} rounds × ${SAMPLES} samples, median ns/op (ratio vs plain)\n`,
  );
  const header = ['operation', ...VARIANTS];
  const rows = OPS.map((op) => {
    const plain = median(results.plain[op.name]);
    return [
      op.name,
      ...VARIANTS.map((v) => {
        const ns = median(results[v][op.name]);
        if (v === 'plain') return `${ns.toFixed(0)} ns`;
        const note = v === 'otel-fs' && op.otel === false ? ' not instrumented' : '';
        return `${ns.toFixed(0)} ns (${(ns / plain).toFixed(2)}×)${note}`;
      }),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
  reportRows(
    OPS.map((op) => ({
      bench: 'fs',
      metric: op.name,
      unit: 'ns/op',
      better: 'lower',
      plain: median(results.plain[op.name]),
      ...(op.otel === false ? {} : { otel: median(results['otel-fs'][op.name]) }),
      provenant: median(results.provenant[op.name]),
      ...(op.target ? { target: op.target } : {}),
    })),
  );
}

async function child(variant, work) {
  const otel = variant === 'otel-fs' ? enableOtelFs() : undefined;
  // Required after instrumentation-fs is registered, so its require hook patches this module.
  const fs = createRequire(import.meta.url)('node:fs');
  fs.mkdirSync(work, { recursive: true });
  const source = join(work, 'source-256.bin');
  const target = join(work, 'target-64.bin');
  const whole = join(work, 'whole-256.bin');
  const alias = join(work, 'alias-256.bin');
  const temporary = join(work, 'rewrite.tmp');
  const rewritten = join(work, 'rewritten-256.bin');
  writeFileSync(source, Buffer.alloc(256, 97));
  fs.mkdirSync(join(work, 'labelled'), { recursive: true });
  writeFileSync(join(work, 'labelled', 'source.bin'), Buffer.alloc(256, 100));
  fs.symlinkSync(source, alias);
  // The provenant process context now carries the source's provenance: every write below is a real flow.
  fs.readFileSync(source);
  const fd = fs.openSync(target, 'w');
  const chunk = Buffer.alloc(64, 98);
  const content = Buffer.alloc(256, 99);

  const bodies = {
    'writeSync 64 B (fd)': () => fs.writeSync(fd, chunk, 0, 64, 0),
    'readFileSync 256 B': () => fs.readFileSync(source),
    "readFileSync 256 B 'utf8'": () => fs.readFileSync(source, 'utf8'),
    'writeFileSync 256 B': () => fs.writeFileSync(whole, content),
    'fs.promises.readFile 256 B': () => fs.promises.readFile(source),
    'readFileSync 256 B via a symlink': () => fs.readFileSync(alias),
    'atomic rewrite 256 B (writeFileSync tmp + renameSync)': () => {
      fs.writeFileSync(temporary, content);
      fs.renameSync(temporary, rewritten);
    },
  };
  const out = {};
  const syncParts = {};
  for (const op of OPS) {
    if (op.syncPart) {
      syncParts[op.syncPart] ??= await synchronousPart(fs, join(work, 'labelled', op.syncPart), op.syncPart, content, op.iterations);
      const { parts, totalNs } = syncParts[op.syncPart];
      out[op.name] = op.total ? totalNs / parts.length : quantile(parts, op.percentile);
      continue;
    }
    const body = bodies[op.name];
    const isAsync = op.name.startsWith('fs.promises');
    const samples = [];
    await measure(body, isAsync, op.iterations);
    for (let s = 0; s < SAMPLES; s++) samples.push(await measure(body, isAsync, op.iterations));
    out[op.name] = median(samples);
  }
  fs.closeSync(fd);
  if (otel) {
    // Proof the instrumentation was live: its spans reached the exporter.
    await otel.provider.forceFlush();
    if (otel.exported() === 0) throw new Error('instrumentation-fs produced no spans');
  }
  console.log(JSON.stringify(out));
}

/**
 * ns spent on the caller's thread by each of `count` asynchronous writes (to a new file each
 * time, or to the same file), after 200 warm-up writes, sorted; and the total ns from the first
 * measured call to the last completion. The writes come from a context that read `labelled/source`.
 */
async function synchronousPart(fs, dir, api, content, count) {
  fs.mkdirSync(dir, { recursive: true });
  fs.readFileSync(join(dir, '..', 'source.bin'));
  const write =
    api === 'callback'
      ? (file) => new Promise((resolve, reject) => fs.writeFile(file, content, (error) => (error ? reject(error) : resolve())))
      : (file) => fs.promises.writeFile(file, content);
  const parts = [];
  let start = 0n;
  for (let i = 0; i < count + 200; i++) {
    if (i === 200) start = process.hrtime.bigint();
    const file = join(dir, api === 'promise-same' ? 'same.bin' : `${i}.bin`);
    const called = process.hrtime.bigint();
    const pending = write(file);
    const spent = Number(process.hrtime.bigint() - called);
    await pending;
    if (i >= 200) parts.push(spent);
  }
  const totalNs = Number(process.hrtime.bigint() - start);
  return { parts: parts.sort((a, b) => a - b), totalNs };
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function measure(body, isAsync, iterations) {
  const start = process.hrtime.bigint();
  if (isAsync) for (let i = 0; i < iterations; i++) await body();
  else for (let i = 0; i < iterations; i++) body();
  return Number(process.hrtime.bigint() - start) / iterations;
}

function enableOtelFs() {
  const require = createRequire(import.meta.url);
  const { trace, context } = require('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
  const { TracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace');
  const { registerInstrumentations } = require('@opentelemetry/instrumentation');
  const { FsInstrumentation } = require('@opentelemetry/instrumentation-fs');
  // Spans are created, batched as in production and handed to an exporter that drops them:
  // the instrumentation's own cost, no network.
  let exported = 0;
  const dropAll = {
    export: (spans, done) => {
      exported += spans.length;
      done({ code: 0 });
    },
    shutdown: async () => {},
    forceFlush: async () => {},
  };
  const provider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter: dropAll })] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  registerInstrumentations({ instrumentations: [new FsInstrumentation()], tracerProvider: provider });
  return { provider, exported: () => exported };
}
