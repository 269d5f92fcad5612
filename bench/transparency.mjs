// Wall time of the transparency apps (test/transparency/), plain and under the preload (enforce,
// default config), interleaved over several runs: the ratio preload ÷ plain per app (issue 18's
// goal: ≤ 1.3×). Whole-process wall time and CPU time (all threads), median and range.
//
//   npm run build && node bench/transparency.mjs [--runs 5]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spread, withoutTelemetryEnv } from './report.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const apps = path.join(root, 'test', 'transparency', 'apps');
const register = path.join(root, 'dist', 'register.js');
const runsFlag = process.argv.indexOf('--runs');
const runs = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 5;

const APPS = {
  'express service (CJS)': { args: [path.join(apps, 'express-app.cjs'), '{dir}'], preload: ['-r', register] },
  'ESM app under import-in-the-middle': {
    args: ['--import', path.join(apps, 'iitm-register.mjs'), path.join(apps, 'iitm-app.mjs')],
    preload: ['--import', register],
  },
  'require(esm) chain': { args: [path.join(root, 'test', 'loader', 'apps', 'chain', 'app.mjs')], preload: ['--import', register] },
  'TypeScript app with tsx': {
    args: ['--import', path.join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs'), path.join(apps, 'tsx', 'app.mts'), '{dir}'],
    preload: ['--import', register],
  },
  'worker pool (4 threads)': { args: [path.join(apps, 'worker-pool.cjs'), '{dir}'], preload: ['-r', register] },
};

// The child's CPU time (all threads) is printed at exit by a probe preloaded before anything else.
const probe = path.join(root, 'bench', 'cpu-at-exit.cjs');

function runOnce(args, preload) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'provenant-bench-transparency-'));
  const started = performance.now();
  const child = spawn(process.execPath, ['-r', probe, ...preload, ...args.map((arg) => (arg === '{dir}' ? dir : arg))], {
    cwd: dir,
    env: { ...withoutTelemetryEnv(), PROVENANT_STATE_DIR: path.join(dir, 'state'), PROVENANT_MODE: 'enforce' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text) => (stderr += text));
  return new Promise((resolve, reject) =>
    child.on('exit', (code) => {
      const ms = performance.now() - started;
      rmSync(dir, { recursive: true, force: true });
      const match = /cpu-at-exit (\d+)/.exec(stderr);
      if (code !== 0 || !match) reject(new Error(`exited ${code}: ${stderr}`));
      else resolve({ ms, cpuMs: Number(match[1]) / 1000 });
    }),
  );
}

console.log(`\nTransparency apps: ${runs} interleaved runs each, Node ${process.version}; median (min–max)\n`);
console.log('| app | plain wall ms | preload wall ms | wall ratio | plain CPU ms | preload CPU ms | CPU ratio |');
console.log('|---|---|---|---|---|---|---|');
for (const [name, app] of Object.entries(APPS)) {
  const plain = { ms: [], cpuMs: [] };
  const under = { ms: [], cpuMs: [] };
  for (let i = 0; i < runs; i++) {
    for (const [into, preload] of [
      [plain, []],
      [under, app.preload],
    ]) {
      const { ms, cpuMs } = await runOnce(app.args, preload);
      into.ms.push(ms);
      into.cpuMs.push(cpuMs);
    }
  }
  const ratio = (key) =>
    spread(
      under[key].map((value, i) => value / plain[key][i]),
      2,
    );
  console.log(
    `| ${name} | ${spread(plain.ms, 0)} | ${spread(under.ms, 0)} | ${ratio('ms')}× | ${spread(plain.cpuMs, 0)} | ${spread(under.cpuMs, 0)} | ${ratio('cpuMs')}× |`,
  );
}
