// provenant is invisible to module loading and to Node's lazy behaviour: async module.register()
// hooks, require(esm) chains and CJS imported from ESM run as plain; worker_threads is loaded
// when the app loads it (Node wraps the app's process.chdir then), and a Worker the app got from
// an ESM import is still mediated; the provenant CLI preloaded through NODE_OPTIONS writes nothing.
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { distRegister, repoRoot, runNode, stopAll, type Preload } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

const apps = path.join(__dirname, 'apps');
const PRELOADS: Preload[] = ['require', 'import'];

/** A state dir and config of its own (default config otherwise), so runs never share a journal. */
function sandbox(): { dir: string; env: Record<string, string> } {
  const dir = tempDir();
  mkdirSync(path.join(dir, 'secret'));
  writeFileSync(path.join(dir, 'secret', 'a.txt'), 'secret');
  writeFileSync(
    path.join(dir, 'provenant.yaml'),
    'resources:\n  - match: { path: "secret/**" }\n    labels: { confidentiality: secret }\n',
  );
  return { dir, env: { PROVENANT_STATE_DIR: path.join(dir, 'state'), PROVENANT_CONFIG: path.join(dir, 'provenant.yaml') } };
}

async function plainAndPreloaded(args: string[], preload: Preload): Promise<{ plain: string; preloaded: string }> {
  const { dir, env } = sandbox();
  const plain = await runNode({ args, cwd: dir, env });
  expect(plain.code, plain.stderr).toBe(0);
  const preloaded = await runNode({ args, cwd: dir, env, preload });
  expect(preloaded.code, preloaded.stderr).toBe(0);
  return { plain: plain.stdout, preloaded: preloaded.stdout };
}

describe.each(PRELOADS)('module loading (preload %s)', (preload) => {
  it('an async module.register() hook coexists: ESM → CJS → require(esm) → CJS and express run as plain', async () => {
    const args = ['--import', path.join(apps, 'register-hooks.mjs'), path.join(apps, 'chain', 'app.mjs')];
    const { plain, preloaded } = await plainAndPreloaded(args, preload);
    expect(JSON.parse(plain)).toEqual({ value: 42, cacheInImportedCjs: 'object', express: 'function' });
    expect(preloaded).toBe(plain);
  });

  it('a require(esm) chain and CJS imported from ESM run as plain', async () => {
    const { plain, preloaded } = await plainAndPreloaded([path.join(apps, 'chain', 'app.mjs')], preload);
    expect(JSON.parse(plain)).toEqual({ value: 42, cacheInImportedCjs: 'object', express: 'function' });
    expect(preloaded).toBe(plain);
  });
});

describe.each(PRELOADS)('worker_threads is loaded when the app loads it (preload %s)', (preload) => {
  it.each(['chdir.cjs', 'chdir.mjs'])('%s: Node wraps the process.chdir the app set first, as plain', async (app) => {
    const { plain, preloaded } = await plainAndPreloaded([path.join(apps, app)], preload);
    expect(JSON.parse(plain)).toMatchObject({ wrappedByNode: true, cwd: true });
    expect(preloaded).toBe(plain);
  });

  // esm-worker-required.cjs: the same module through require(esm), which creates the Worker before any queued code runs.
  it.each(['esm-worker.mjs', 'esm-worker-required.cjs'])(
    'a Worker imported in ESM (%s) is mediated: holding a secret, a thread started without the preload runs provenant and writes nothing',
    async (app) => {
      const { dir, env } = sandbox();
      const marker = path.join(dir, 'ran');
      const args = [path.join(apps, app), path.join(dir, 'secret', 'a.txt'), marker];
      const result = await runNode({ args, cwd: dir, env, preload });
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({ worker: 'exited', code: 1, failed: 'ERR_PROVENANCE_DENIED' });
      expect(existsSync(marker)).toBe(false);
    },
  );

  it.each(['esm-worker.mjs', 'esm-worker-required.cjs'])(
    'the allowed twin (%s): holding nothing labelled, the thread runs and writes',
    async (app) => {
      const { dir, env } = sandbox();
      const marker = path.join(dir, 'ran');
      const result = await runNode({ args: [path.join(apps, app), '-', marker], cwd: dir, env, preload });
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({ worker: 'exited', code: 0 });
      expect(existsSync(marker)).toBe(true);
    },
  );
});

/** Every file under `dir` with its size: what a run added or grew shows up as a difference. */
function listing(dir: string): Record<string, number> {
  const files: Record<string, number> = {};
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) walk(full);
      else files[path.relative(dir, full)] = statSync(full).size;
    }
  };
  walk(dir);
  return files;
}

it('the CLI preloaded through NODE_OPTIONS verifies a state dir and writes nothing into it', async () => {
  const { dir, env } = sandbox();
  const wrote = await runNode({ args: ['-e', "require('node:fs').writeFileSync('out.txt', 'x')"], cwd: dir, env, preload: 'require' });
  expect(wrote.code, wrote.stderr).toBe(0);
  const stateDir = env.PROVENANT_STATE_DIR;
  const before = listing(stateDir);
  expect(Object.keys(before).some((file) => file.startsWith('journal'))).toBe(true);
  const verify = await runNode({
    args: [path.join(repoRoot, 'dist', 'cli', 'main.js'), 'verify'],
    cwd: dir,
    env: { ...env, NODE_OPTIONS: `-r ${distRegister}` },
  });
  expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  expect(listing(stateDir)).toEqual(before);
});
