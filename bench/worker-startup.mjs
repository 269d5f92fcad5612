// Worker start-up: `new Worker()` to its first message, plain and under the preload (default
// config, and a config file that labels a folder, which a worker is handed by its creator).
// Each run is a fresh process that starts one worker, then a second one; variants interleaved.
// Besides wall time, the CPU time the worker thread itself used before its first message
// (process.threadCpuUsage()): the part that the machine's other load does not inflate.
//
//   npm run build && node bench/worker-startup.mjs [--runs 9] [--baseline <other build>/dist/register.js]
//
// --baseline adds the same config-file variant preloading another build (say, the commit before
// a change), interleaved with the others: the comparison that holds on a busy machine.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, reportRows, spread, withoutTelemetryEnv } from './report.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const register = path.join(root, 'dist', 'register.js');
const runsFlag = process.argv.indexOf('--runs');
const runs = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 9;
const baselineFlag = process.argv.indexOf('--baseline');
const baseline = baselineFlag > 0 ? path.resolve(process.argv[baselineFlag + 1]) : undefined;

const dir = mkdtempSync(path.join(os.tmpdir(), 'provenant-bench-worker-'));
const app = path.join(dir, 'app.cjs');
writeFileSync(
  app,
  `const { Worker } = require('node:worker_threads');
const times = [];
function start(left) {
  const started = performance.now();
  const worker = new Worker("const { user, system } = process.threadCpuUsage(); require('node:worker_threads').parentPort.postMessage((user + system) / 1000)", { eval: true });
  worker.once('message', (cpuMs) => {
    times.push([performance.now() - started, cpuMs]);
    worker.terminate().then(() => (left > 1 ? start(left - 1) : console.log(JSON.stringify(times))));
  });
}
start(2);
`,
);
const config = path.join(dir, 'provenant.yaml');
writeFileSync(
  config,
  'mode: enforce\nresources:\n  - match: { path: "secret/**" }\n    labels: { confidentiality: secret, tags: [pii] }\n',
);

const variants = {
  plain: { preload: [], env: {} },
  'provenant, default config': { preload: ['-r', register], env: {} },
  'provenant, config file': { preload: ['-r', register], env: { PROVENANT_CONFIG: config } },
  ...(baseline ? { 'baseline build, config file': { preload: ['-r', baseline], env: { PROVENANT_CONFIG: config } } } : {}),
};
const results = Object.fromEntries(Object.keys(variants).map((name) => [name, { first: [], second: [], firstCpu: [], secondCpu: [] }]));

function runOnce({ preload, env }) {
  const child = spawn(process.execPath, [...preload, app], {
    cwd: dir,
    env: { ...withoutTelemetryEnv(), ...env, PROVENANT_STATE_DIR: path.join(dir, 'state') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text) => (stderr += text));
  return new Promise((resolve, reject) =>
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(stdout)) : reject(new Error(`app exited ${code}: ${stderr}`)))),
  );
}

try {
  for (let i = 0; i < runs; i++) {
    for (const [name, variant] of Object.entries(variants)) {
      const [[first, firstCpu], [second, secondCpu]] = await runOnce(variant);
      Object.entries({ first, second, firstCpu, secondCpu }).forEach(([key, ms]) => results[name][key].push(ms));
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(`\nnew Worker() to first message: ${runs} interleaved runs each, Node ${process.version}; median (min–max) ms\n`);
console.log(
  '| variant | first worker, wall | + over plain | second worker, wall | + over plain | worker thread CPU (first) | + over plain |',
);
console.log('|---|---|---|---|---|---|---|');
const plain = results.plain;
const overPlain = (r, key) =>
  spread(
    r[key].map((ms, i) => ms - plain[key][i]),
    1,
  );
for (const [name, r] of Object.entries(results)) {
  const extra = (key) => (name === 'plain' ? '' : overPlain(r, key));
  console.log(
    `| ${name} | ${spread(r.first, 1)} | ${extra('first')} | ${spread(r.second, 1)} | ${extra('second')} | ${spread(r.firstCpu, 1)} | ${extra('firstCpu')} |`,
  );
}
reportRows(
  Object.entries(results)
    .filter(([name]) => name !== 'plain')
    .flatMap(([name, r]) => [
      {
        bench: 'worker-startup',
        metric: `${name}: new Worker() to first message`,
        unit: 'ms',
        better: 'lower',
        plain: median(plain.first),
        provenant: median(r.first),
        target: '< 20 ms over plain',
      },
      {
        bench: 'worker-startup',
        metric: `${name}: worker thread CPU before its first message`,
        unit: 'ms',
        better: 'lower',
        plain: median(plain.firstCpu),
        provenant: median(r.firstCpu),
      },
    ]),
);
