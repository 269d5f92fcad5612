// The transparency suite: small faithful apps in the shapes real tools use, each run plain and
// under the preload (enforce and audit mode, default config), must print exactly what they print
// plain. Only packages already in node_modules: express, import-in-the-middle (via OpenTelemetry),
// tsx (a devDependency for this suite).
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runNode, stopAll, type Preload } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

const apps = path.join(__dirname, 'apps');

interface App {
  /** Node arguments; `{dir}` is a fresh directory of the run's own. */
  args: string[];
  preload: Preload;
}

const APPS: Record<string, App> = {
  'express service (CJS)': { args: [path.join(apps, 'express-app.cjs'), '{dir}'], preload: 'require' },
  'ESM app under import-in-the-middle (async module.register hook)': {
    args: ['--import', path.join(apps, 'iitm-register.mjs'), path.join(apps, 'iitm-app.mjs')],
    preload: 'import',
  },
  'require(esm) chain: ESM → CJS → ESM → CJS': {
    args: [path.join(__dirname, '..', 'loader', 'apps', 'chain', 'app.mjs')],
    preload: 'import',
  },
  'TypeScript app started with tsx (async module.register hooks)': {
    args: ['--import', path.join(repoRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs'), path.join(apps, 'tsx', 'app.mts'), '{dir}'],
    preload: 'import',
  },
  'worker pool with MessageChannels and files written by threads': {
    args: [path.join(apps, 'worker-pool.cjs'), '{dir}'],
    preload: 'require',
  },
};

/** Runs one app in a fresh directory (its own default state dir, no config file) and returns its stdout. */
async function run(app: App, preload: Preload, mode?: 'enforce' | 'audit'): Promise<string> {
  const dir = tempDir();
  const args = app.args.map((arg) => (arg === '{dir}' ? dir : arg));
  const env: Record<string, string> = { PROVENANT_STATE_DIR: path.join(dir, 'state') };
  if (mode) env.PROVENANT_MODE = mode;
  const result = await runNode({ args, cwd: dir, env, preload });
  expect(result.code, result.stderr).toBe(0);
  expect(result.stderr).toBe('');
  return result.stdout;
}

describe.each(Object.entries(APPS))('%s', (_name, app) => {
  it('prints what it prints plain, under the preload in enforce and audit mode', async () => {
    const plain = await run(app, 'none');
    expect(plain.length).toBeGreaterThan(0);
    expect(await run(app, app.preload, 'enforce')).toBe(plain);
    expect(await run(app, app.preload, 'audit')).toBe(plain);
  });
});
