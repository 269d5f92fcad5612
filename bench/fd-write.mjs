// fd-level writes to an fd the app did not open through fs (inherited: fd 3 → /dev/null), next to
// one it did (in the fd map), plain Node vs provenant. provenant checks with an fstat that an
// unknown fd is still the file it resolved (through /proc/self/fd) the first time.
//
//   npm run build && node bench/fd-write.mjs [--rounds 3]
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, withoutTelemetryEnv } from './report.mjs';

const register = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'register.js');
const ITERATIONS = 50_000;
const SAMPLES = 9;

if (process.argv[2] === '--child') child();
else parent();

function parent() {
  const roundsFlag = process.argv.indexOf('--rounds');
  const rounds = roundsFlag > 0 ? Number(process.argv[roundsFlag + 1]) : 3;
  const dir = mkdtempSync(join(tmpdir(), 'provenant-bench-'));
  const results = { plain: { mapped: [], inherited: [] }, provenant: { mapped: [], inherited: [] } };
  try {
    for (let round = 0; round < rounds; round++) {
      for (const variant of ['plain', 'provenant']) {
        const preload = variant === 'provenant' ? ['-r', register] : [];
        const devNull = openSync('/dev/null', 'w');
        const run = spawnSync(process.execPath, [...preload, fileURLToPath(import.meta.url), '--child'], {
          env: { ...withoutTelemetryEnv(process.env), PROVENANT_STATE_DIR: join(dir, `${variant}-${round}`) },
          stdio: ['ignore', 'pipe', 'inherit', devNull],
          encoding: 'utf8',
        });
        closeSync(devNull);
        if (run.status !== 0) throw new Error(`${variant} child failed (${run.status})`);
        const measured = JSON.parse(run.stdout.trim().split('\n').pop());
        results[variant].mapped.push(measured.mapped);
        results[variant].inherited.push(measured.inherited);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`fs.writeSync 64 B to /dev/null — node ${process.version}, ${rounds} rounds × ${SAMPLES} samples, median ns/op\n`);
  console.log('| fd | plain | provenant |\n|---|---|---|');
  for (const fd of ['mapped', 'inherited']) {
    console.log(`| ${fd} | ${median(results.plain[fd]).toFixed(0)} | ${median(results.provenant[fd]).toFixed(0)} |`);
  }
}

function child() {
  const mapped = openSync('/dev/null', 'w');
  const data = Buffer.alloc(64, 97);
  const time = (fd) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < ITERATIONS; i++) writeSync(fd, data);
    return Number(process.hrtime.bigint() - start) / ITERATIONS;
  };
  const samples = { mapped: [], inherited: [] };
  // Alternating, so load on the machine hits both alike.
  for (let i = 0; i < SAMPLES; i++) {
    samples.mapped.push(time(mapped));
    samples.inherited.push(time(3));
  }
  console.log(JSON.stringify({ mapped: median(samples.mapped), inherited: median(samples.inherited) }));
}
