/**
 * The preload's bundle is loaded with the code cache its creating thread hands a worker
 * (src/support/bundle-code.ts): a worker under provenant runs the cached code, and a cache is
 * never used for any file but the one it was made from. V8 itself checks only the source's length,
 * so stale code of an equally long file would run: the "same length" cases below fail without the
 * file identity check.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runNode, stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { appDir } from './apps.js';

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

const LOADED = "globalThis[Symbol.for('provenant.bundle-script')]";

// Loads bundle a.js in this thread, then each worker loads `file` handed a's code: as it is, after
// a.js was replaced by equally long other source, and for another file b.js of the same length.
const SCRIPT = `const { Worker, isMainThread, workerData, setEnvironmentData, parentPort } = require('node:worker_threads');
const { renameSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { BUNDLE_CODE_KEY, bundleCodeForWorker, loadBundle } = require(${JSON.stringify(join(repoRoot, 'dist', 'support', 'bundle-code.js'))});
const bundle = (who) => \`module.exports = { who: '\${who}', loaded: () => ${LOADED}.code !== undefined };\\n\`;
if (isMainThread) {
  writeFileSync(join(__dirname, 'a.js'), bundle('A'));
  writeFileSync(join(__dirname, 'b.js'), bundle('B'));
  loadBundle(join(__dirname, 'a.js'), module);
  setEnvironmentData(BUNDLE_CODE_KEY, bundleCodeForWorker());
  const results = {};
  const next = (cases) => {
    if (cases.length === 0) return console.log(JSON.stringify(results));
    const [name, file, replace] = cases[0];
    const worker = new Worker(__filename, { workerData: { file, replace } });
    worker.once('message', (result) => {
      results[name] = result;
      worker.terminate().then(() => next(cases.slice(1)));
    });
  };
  next([['same file', 'a.js', false], ['replaced, same length', 'a.js', true], ['other file, same length', 'b.js', false]]);
} else {
  const file = join(__dirname, workerData.file);
  if (workerData.replace) {
    writeFileSync(file + '.new', bundle('C'));
    renameSync(file + '.new', file);
  }
  const exports = loadBundle(file, module);
  parentPort.postMessage({ who: exports.who, usedHandedCode: exports.loaded() });
}
`;

describe('the bundle code handed to workers', () => {
  it('is used for the very file it was made from, and only for it', async () => {
    const dir = tempDir('provenant-bundle-code-');
    writeFileSync(join(dir, 'app.cjs'), SCRIPT);
    const result = await runNode({ args: [join(dir, 'app.cjs')], cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout.trim())).toEqual({
      'same file': { who: 'A', usedHandedCode: true },
      'replaced, same length': { who: 'C', usedHandedCode: false },
      'other file, same length': { who: 'B', usedHandedCode: false },
    });
  });

  it.each([
    ['with a config file', true, 'ERR_PROVENANCE_DENIED'],
    ['under the built-in defaults', false, 'written'],
  ])('a worker under the preload %s runs the code its creator compiled, and stays mediated', async (_name, configured, write) => {
    const dir = appDir({
      'app.cjs': `const { Worker } = require('node:worker_threads');
const worker = new Worker(\`const fs = require('node:fs');
let write;
try { fs.writeFileSync('public.txt', require('node:worker_threads').workerData); write = 'written'; } catch (error) { write = error.code; }
require('node:worker_threads').parentPort.postMessage({ usedHandedCode: ${LOADED}.code !== undefined, write });\`, { eval: true, workerData: require('node:fs').readFileSync('secret.txt', 'utf8') });
worker.once('message', (result) => worker.terminate().then(() => console.log(JSON.stringify(result))));
`,
      'secret.txt': 'patient 7\n',
      ...(configured
        ? { 'provenant.yaml': 'mode: enforce\nresources:\n  - match: { path: "secret.txt" }\n    labels: { confidentiality: secret }\n' }
        : {}),
    });
    const result = await runNode({
      args: ['app.cjs'],
      cwd: dir,
      preload: 'require',
      env: { PROVENANT_STATE_DIR: tempDir('provenant-state-') },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout.trim())).toEqual({ usedHandedCode: true, write });
    expect(existsSync(join(dir, 'public.txt'))).toBe(write === 'written');
  });

  it('with --enable-source-maps the bundle is left to Node’s loader: stack traces still name provenant’s sources', async () => {
    const dir = appDir({
      'app.cjs': `try { require('node:fs').writeFileSync(); } catch (error) { console.log(JSON.stringify(error.stack.split('\\n')[2])); }
console.log(JSON.stringify(${LOADED} === undefined));
`,
    });
    const result = await runNode({
      args: ['--enable-source-maps', 'app.cjs'],
      cwd: dir,
      preload: 'require',
      env: { PROVENANT_STATE_DIR: tempDir('provenant-state-') },
    });
    expect(result.code, result.stderr).toBe(0);
    const [frame, notCompiledHere] = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as unknown);
    expect(frame).toMatch(/src\/instrumentation\/fs\/sync-api\.ts:\d+:\d+\)$/);
    expect(notCompiledHere).toBe(true);
  });

  it('a process under the preload leaves its compiled bundle in the state dir; the next runs it, and one V8 rejects is replaced', async () => {
    const state = tempDir('provenant-state-');
    const dir = appDir({ 'app.cjs': `console.log(String(${LOADED}.script.cachedDataRejected));\n` });
    const run = async (): Promise<string> => {
      const result = await runNode({ args: ['app.cjs'], cwd: dir, preload: 'require', env: { PROVENANT_STATE_DIR: state } });
      expect(result.code, result.stderr).toBe(0);
      return result.stdout.trim();
    };
    const cacheDir = join(state, 'code-cache');
    // Left by an earlier build: removed once this build stores its own.
    mkdirSync(cacheDir);
    writeFileSync(join(cacheDir, 'provenant.js-1-2-3-v0.0.0-x64.v8'), 'old');
    // No cache yet: compiled from source, then stored.
    expect(await run()).toBe('undefined');
    const [file, ...others] = readdirSync(cacheDir);
    expect(others).toEqual([]);
    expect(file).toMatch(new RegExp(`^provenant\\.js-.*-${process.arch}\\.v8$`));
    expect(await run()).toBe('false');
    // Damaged (as long as it was): V8 rejects it, the process starts as usual and stores a good one.
    const length = readFileSync(join(cacheDir, file)).length;
    writeFileSync(join(cacheDir, file), Buffer.alloc(length, 7));
    expect(await run()).toBe('true');
    expect(readFileSync(join(cacheDir, file)).equals(Buffer.alloc(length, 7))).toBe(false);
    expect(await run()).toBe('false');
    expect(readdirSync(cacheDir)).toEqual([file]);
  });
});
