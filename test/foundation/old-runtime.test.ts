/**
 * An unsupported Node.js (the system node, v20, older than engines.node) is refused clearly:
 * one stderr line naming the version needed; exit 78 before any app code in enforce mode; in
 * audit mode the app runs without provenant and says so. The CLI refuses the same way.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, distRegister, repoRoot } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

/** The machine's own node, outside node_modules/.bin (which holds Node 24). */
const systemNode = '/usr/bin/node';

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string>, cwd: string): Promise<Result> {
  return new Promise((resolve) => {
    execFile(systemNode, args, { cwd, env: cleanEnv(env), timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let app: string;
let state: string;

beforeAll(async () => {
  const version = (await run(['--version'], {}, repoRoot)).stdout.trim();
  // The test is about an old runtime: a machine whose system node is new would prove nothing.
  expect(version).toMatch(/^v(1\d|20|21|22\.(\d|1[0-4]))\./);
  const dir = tempDir('provenant-old-node-');
  state = join(dir, 'state');
  app = join(dir, 'app.js');
  writeFileSync(app, `require('node:fs').writeFileSync(${JSON.stringify(join(dir, 'ran.txt'))}, 'ran'); console.log('app ran');\n`);
});
afterAll(cleanupTempDirs);

describe('on Node.js older than 22.15', () => {
  it('enforce mode: one line naming the version needed, exit 78, the app never runs', async () => {
    const result = await run(['-r', distRegister, app], { PROVENANT_STATE_DIR: state, PROVENANT_MODE: 'enforce' }, repoRoot);
    expect(result.code).toBe(78);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/needs Node\.js >= 22\.15\.0; this is Node\.js v20\.\d+\.\d+: refusing to start in enforce mode/);
    expect(() => readFileSync(join(app, '..', 'ran.txt'))).toThrow(/ENOENT/);
  });

  it('audit mode: the app runs unobserved with one warning line', async () => {
    const result = await run(['-r', distRegister, app], { PROVENANT_STATE_DIR: state, PROVENANT_MODE: 'audit' }, repoRoot);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('app ran\n');
    expect(result.stderr).toMatch(
      /^provenant needs Node\.js >= 22\.15\.0; this is Node\.js v20\.[\d.]+: provenant is disabled \(audit mode\)[^\n]*\n$/,
    );
    expect(readFileSync(join(app, '..', 'ran.txt'), 'utf8')).toBe('ran');
  });

  it('the CLI says the same and exits 78', async () => {
    const result = await run([join(repoRoot, 'dist', 'cli', 'main.js'), 'verify', '--state', state], {}, repoRoot);
    expect(result.code).toBe(78);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^provenant needs Node\.js >= 22\.15\.0; this is Node\.js v20\.[\d.]+\n$/);
  });
});
