/**
 * A built-in provenant cannot patch is an unmediated way out. Enforce mode refuses to run with one:
 * a patch failing at start stops the start (exit 78) before the app's first line, and one failing
 * when the built-in first loads stops the process before the module reaches the app, so nothing
 * after it runs. Audit mode says so on stderr and runs on. Each failure is caused for real by a
 * preload that runs before provenant's (a frozen `fs`; `process.getBuiltinModule` handing
 * provenant a frozen stand-in for `node:http2`, while the app still gets the real module).
 */
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, distRegister, repoRoot } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

let dir: string;

function run(breaker: string, mode: string, marker: string): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-r', join(dir, breaker), '-r', distRegister, join(dir, 'app.cjs'), join(dir, marker)],
      { cwd: repoRoot, env: cleanEnv({ PROVENANT_MODE: mode, PROVENANT_STATE_DIR: join(dir, `state-${marker}`) }), timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    );
  });
}

beforeAll(() => {
  dir = tempDir('provenant-patch-failures-');
  writeFileSync(join(dir, 'frozen-fs.cjs'), "Object.freeze(require('node:fs'));\n");
  writeFileSync(
    join(dir, 'stand-in-http2.cjs'),
    "const real = process.getBuiltinModule;\nprocess.getBuiltinModule = (id) => (id === 'node:http2' ? Object.freeze({}) : real(id));\n",
  );
  // The marker is written after http2 is loaded: it exists only if the app ran past the load.
  writeFileSync(
    join(dir, 'app.cjs'),
    "console.log('app started');\nconst http2 = require('node:http2');\nrequire('node:fs').writeFileSync(process.argv[2], typeof http2.connect);\n",
  );
});
afterAll(cleanupTempDirs);

describe('a built-in provenant cannot patch', () => {
  it('at start, enforce mode: exit 78 naming the instrumentation, the app never runs', async () => {
    const result = await run('frozen-fs.cjs', 'enforce', 'start-enforce');
    expect(result.code).toBe(78);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/provenant: failed to start: Error: enabling the fs instrumentation failed \(Cannot redefine property/);
    expect(existsSync(join(dir, 'start-enforce'))).toBe(false);
  });

  it('at start, audit mode: one line says fs is not mediated, the app runs', async () => {
    const result = await run('frozen-fs.cjs', 'audit', 'start-audit');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('app started\n');
    expect(result.stderr).toMatch(
      /provenant: enabling the fs instrumentation failed .*; it is not mediated in this process \(audit mode\)/,
    );
    expect(existsSync(join(dir, 'start-audit'))).toBe(true);
  });

  it('at its first load, enforce mode: exit 78 before the module reaches the app', async () => {
    const result = await run('stand-in-http2.cjs', 'enforce', 'load-enforce');
    expect(result.code).toBe(78);
    expect(result.stdout).toBe('app started\n');
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(
        /^provenant: patching node:http2 failed \(.+\); stopping: enforce mode does not run with an unmediated module$/,
      ),
    ]);
    expect(existsSync(join(dir, 'load-enforce'))).toBe(false);
  });

  it('at its first load, audit mode: one line says it is not mediated, the app gets the real module', async () => {
    const result = await run('stand-in-http2.cjs', 'audit', 'load-audit');
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/provenant: patching node:http2 failed .*; node:http2 is not mediated in this process \(audit mode\)/);
    expect(existsSync(join(dir, 'load-audit'))).toBe(true);
  });
});
