// Asynchronous fs writes commit their file's provenance after the call returns, fsync it off the
// caller's thread and move their bytes once it is synced: a process killed with SIGKILL right
// after writes resolved leaves every one of those files' provenance in the store, through every
// asynchronous shape (whole-file, chunked, FileHandle, fd, stream, copy, link, rename), and a
// denied asynchronous write still moves nothing. A real process under the preload.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startNode, stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs } from '../helpers/tmp.js';
import { appsDir, createWorkspace, distIndex, SECRET_TEXT } from './fixture.js';

/** The asynchronous shapes test/fs/apps/async-writes.cjs writes through, in its order. */
const SHAPES = [
  'fs.promises.writeFile',
  'fs.writeFile',
  'FileHandle#writeFile',
  'fs.promises.writeFile (chunks)',
  'fs.promises.copyFile',
  'fs.copyFile',
  'fs.promises.link',
  'fs.open + fs.write',
  'fs.createWriteStream',
  'fs.promises.rename',
];

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

it('after kill -9, every file whose asynchronous write resolved has its provenance in the store', async () => {
  const ws = await createWorkspace();
  try {
    const app = startNode({
      args: [path.join(appsDir, 'async-writes.cjs'), ws.root],
      cwd: ws.root,
      preload: 'require',
      env: {
        PROVENANT_CONFIG: path.join(ws.root, 'provenant.yaml'),
        PROVENANT_STATE_DIR: ws.stateDir,
        PROVENANT_DIST_INDEX: distIndex,
      },
    });
    await app.waitForLine(/^resolved 30$/, 30_000);
    const exit = await app.kill('SIGKILL');
    expect(exit.signal).toBe('SIGKILL');
    const lines = app.stdoutLines;
    const denials = lines.filter((line) => line.startsWith('denied '));
    expect(denials).toEqual(SHAPES.map((shape) => `denied ERR_PROVENANCE_DENIED ${shape}`));
    // Nothing moved: no file in the public folder, the file a denied rename would have moved still there.
    expect(readdirSync(ws.abs('out/public'))).toEqual([]);
    expect(readFileSync(ws.abs('out/secret/leak.txt.tmp'), 'utf8')).toBe(SECRET_TEXT);
    const resolved = lines.flatMap((line) => /^resolved (\d+)$/.exec(line)?.[1] ?? []);
    expect(resolved.length).toBeGreaterThanOrEqual(31);
    // Every shape resolved some write before the kill.
    expect(resolved.length).toBeGreaterThan(SHAPES.length);
    for (const i of resolved) {
      const file = `out/secret/${i}.txt`;
      expect(readFileSync(ws.abs(file), 'utf8')).toBe(SECRET_TEXT);
      const stored = ws.stored(file);
      expect(stored?.sources, file).toContain(ws.uri('secret/a.txt'));
      expect(stored?.labels).toMatchObject({ confidentiality: 'secret', tags: ['pii'] });
    }
  } finally {
    await ws.close();
  }
}, 60_000);

it('an asynchronous write commits nothing inside the call: its provenance is committed (and synced) after it returns, before it completes', async () => {
  const ws = await createWorkspace();
  try {
    const result = await ws.run('deferred-commits.cjs');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual(
      [
        'fs.promises.writeFile',
        'fs.writeFile',
        'fs.promises.writeFile (chunks)',
        'fs.promises.copyFile',
        'fs.copyFile',
        'fs.promises.link',
        'fs.open',
        'fs.createWriteStream',
      ].map((shape) => `${shape} during same after changed`),
    );
    for (const file of ['fs-promises-writeFile', 'fs-createWriteStream', 'fs-promises-link', 'fs-open']) {
      expect(ws.stored(`out/secret/${file}`)?.labels, file).toMatchObject({ confidentiality: 'secret', tags: ['pii'] });
    }
  } finally {
    await ws.close();
  }
}, 60_000);

it('a file whose asynchronous write is not committed yet is read with the labels that write gave it', async () => {
  const ws = await createWorkspace();
  try {
    const result = await ws.run('pending-copy.cjs');
    expect(result.stdout.trim(), result.stderr).toBe('done, leak ERR_PROVENANCE_DENIED');
    expect(readdirSync(ws.abs('out/public'))).toEqual([]);
    // y.txt's config labels are only `secret`: pii and the source come from x.txt's pending provenance.
    const copy = ws.stored('out/secret/y.txt');
    expect(copy?.sources).toContain(ws.uri('secret/a.txt'));
    expect(copy?.labels.tags).toEqual(['pii']);
  } finally {
    await ws.close();
  }
}, 60_000);

it('an asynchronous copy onto a file holding just what it brings commits nothing; one onto a file holding more replaces it after the call returns', async () => {
  const ws = await createWorkspace();
  try {
    const result = await ws.run('copy-over.cjs');
    expect(result.code, result.stderr).toBe(0);
    // Before, a copy onto an existing file retired its record and merged it again (a write
    // transaction of its own, outside the batch's shared commit) even when nothing changed.
    expect(result.stdout.trim().split('\n')).toEqual([
      'same source again during same after same',
      'plain over it during same after changed',
    ]);
    const stored = ws.stored('out/secret/x.txt');
    expect(stored?.sources).toEqual([ws.uri('plain.txt')]);
    expect(stored?.labels.tags).toEqual([]);
  } finally {
    await ws.close();
  }
}, 60_000);
