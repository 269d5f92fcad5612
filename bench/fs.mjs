// fs hot-path benchmark: plain Node vs @opentelemetry/instrumentation-fs vs provenant, same
// operations, steady state (the same flow repeated). Each variant runs in its own child
// process; variants are interleaved over several rounds and the median is reported.
//
//   npm run build && node bench/fs.mjs [--rounds 5]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
const OPS = [
  { name: 'writeSync 64 B (fd)', iterations: 100_000, otel: false, target: '≤ 1.10× plain' },
  { name: 'readFileSync 256 B', iterations: 40_000, target: '≤ 1.10× plain' },
  { name: "readFileSync 256 B 'utf8'", iterations: 40_000 },
  { name: 'writeFileSync 256 B', iterations: 1_500 },
  { name: 'fs.promises.readFile 256 B', iterations: 1_500 },
  // File identity: a name resolved once (realpath + stat) and cached; a rename drops the cache.
  { name: 'readFileSync 256 B via a symlink', iterations: 40_000 },
  { name: 'atomic rewrite 256 B (writeFileSync tmp + renameSync)', iterations: 500 },
];
const SAMPLES = 7;

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
        const env = { ...withoutTelemetryEnv(process.env), PROVENANT_STATE_DIR: join(work, 'state') };
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
  for (const op of OPS) {
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
