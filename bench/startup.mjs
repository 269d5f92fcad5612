// Start-up cost: `node hello.js` plain, with the preload (export off), and with the preload and
// OTLP export on (to a local receiver that accepts everything). Wall time from spawn to exit and
// the process's peak RSS and CPU time (user + system, all threads: the figure the machine's other
// load inflates least), interleaved over several runs; median and range.
//
//   npm run build && node bench/startup.mjs [--runs 15] [--baseline <other build>/dist/register.js]
//
// --baseline adds both preload variants run with another build (say, the commit before a change),
// interleaved with the others.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, reportRows, spread, withoutTelemetryEnv } from './report.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const register = path.join(root, 'dist', 'register.js');
const runsFlag = process.argv.indexOf('--runs');
const runs = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 15;
const baselineFlag = process.argv.indexOf('--baseline');
const baseline = baselineFlag > 0 ? path.resolve(process.argv[baselineFlag + 1]) : undefined;

const dir = mkdtempSync(path.join(os.tmpdir(), 'provenant-bench-startup-'));
const hello = path.join(dir, 'hello.js');
// Peak RSS and CPU as the process ends; 'exit' listeners run in order, so provenant's exit flush (registered at preload) came first.
writeFileSync(
  hello,
  "console.log('hello');\nprocess.on('exit', () => { const u = process.resourceUsage(); process.stderr.write(`maxrss ${u.maxRSS} cpu ${u.userCPUTime + u.systemCPUTime}\\n`); });\n",
);
const receiver = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
});
await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const endpoint = `http://127.0.0.1:${receiver.address().port}`;

const exportOn = { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' };
const variants = {
  plain: { preload: [], env: {} },
  'provenant, export off': { preload: ['-r', register], env: {} },
  'provenant, OTLP export on': { preload: ['-r', register], env: exportOn },
  ...(baseline
    ? {
        'baseline build, export off': { preload: ['-r', baseline], env: {} },
        'baseline build, OTLP export on': { preload: ['-r', baseline], env: exportOn },
      }
    : {}),
};
const results = Object.fromEntries(Object.keys(variants).map((name) => [name, { ms: [], rssMiB: [], cpuMs: [] }]));

function runOnce({ preload, env }) {
  const base = withoutTelemetryEnv();
  const started = performance.now();
  const child = spawn(process.execPath, [...preload, hello], {
    cwd: dir,
    env: { ...base, ...env, PROVENANT_STATE_DIR: path.join(dir, 'state') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text) => (stderr += text));
  return new Promise((resolve, reject) =>
    child.on('exit', (code) => {
      const ms = performance.now() - started;
      const match = /maxrss (\d+) cpu (\d+)/.exec(stderr);
      if (code !== 0 || !match) reject(new Error(`hello.js exited ${code}: ${stderr}`));
      else resolve({ ms, rssMiB: Number(match[1]) / 1024, cpuMs: Number(match[2]) / 1000 });
    }),
  );
}

try {
  for (let i = 0; i < runs; i++) {
    for (const [name, variant] of Object.entries(variants)) {
      const { ms, rssMiB, cpuMs } = await runOnce(variant);
      results[name].ms.push(ms);
      results[name].rssMiB.push(rssMiB);
      results[name].cpuMs.push(cpuMs);
    }
  }
} finally {
  receiver.close();
  rmSync(dir, { recursive: true, force: true });
}

console.log(`\nStart-up of node hello.js: ${runs} interleaved runs each, Node ${process.version}; median (min–max)\n`);
console.log('| variant | wall ms | + ms over plain | CPU ms | + CPU ms over plain | peak RSS MiB | + MiB over plain |');
console.log('|---|---|---|---|---|---|---|');
const plain = results.plain;
for (const [name, r] of Object.entries(results)) {
  const extraMs = r.ms.map((ms, i) => ms - plain.ms[i]);
  const extraMiB = r.rssMiB.map((mib, i) => mib - plain.rssMiB[i]);
  const extraCpu = r.cpuMs.map((ms, i) => ms - plain.cpuMs[i]);
  const over = (text) => (name === 'plain' ? '' : text);
  console.log(
    `| ${name} | ${spread(r.ms, 0)} | ${over(spread(extraMs, 0))} | ${spread(r.cpuMs, 0)} | ${over(spread(extraCpu, 0))} | ${spread(r.rssMiB, 1)} | ${over(spread(extraMiB, 1))} |`,
  );
}
reportRows(
  Object.entries(results)
    .filter(([name]) => name !== 'plain')
    .flatMap(([name, r]) => [
      { bench: 'startup', metric: `${name}: wall time`, unit: 'ms', better: 'lower', plain: median(plain.ms), provenant: median(r.ms) },
      {
        bench: 'startup',
        metric: `${name}: CPU time`,
        unit: 'ms',
        better: 'lower',
        plain: median(plain.cpuMs),
        provenant: median(r.cpuMs),
      },
      {
        bench: 'startup',
        metric: `${name}: peak RSS`,
        unit: 'MiB',
        better: 'lower',
        plain: median(plain.rssMiB),
        provenant: median(r.rssMiB),
      },
    ]),
);
