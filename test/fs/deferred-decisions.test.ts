// Promise fs calls return before provenant decides them (issue 16): the decision is taken after
// the caller's synchronous run, yet with the context as it was at the call, in call order and
// before any later flow; the original runs only once it allowed the call, so a denial still moves
// nothing, errors are plain Node's, and the promise resolves only once the provenance is stored.
// Real processes under the preload, real files, the store read as another process reads it.
import { readFileSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs } from '../helpers/tmp.js';
import { createWorkspace, SECRET_TEXT } from './fixture.js';

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

const secretLine = JSON.stringify(SECRET_TEXT);

it('decides each promise call with the context of its call, in call order, and a denial moves nothing', async () => {
  const ws = await createWorkspace();
  try {
    const result = await ws.run('deferred-decisions.cjs');
    expect(result.code, result.stderr).toBe(0);
    const denied = [
      'fs.promises.writeFile',
      'fs.promises.appendFile',
      'fs.promises.truncate',
      'fs.promises.copyFile',
      'fs.promises.cp',
      'fs.promises.rename',
      'FileHandle#write',
      'FileHandle#writeFile',
      'FileHandle#truncate',
    ];
    expect(result.stdout.trim().split('\n')).toEqual([
      'called before the read ok "clean\\n"',
      'fs.writeFile ERR_PROVENANCE_DENIED',
      ...denied.map((shape) => `${shape} promise ERR_PROVENANCE_DENIED`),
      // The public file byte for byte as it was, nothing copied, cp'd or moved there.
      'after the denials "public\\n" "to be moved\\n" clean.txt,kept.txt',
      'fs.promises.writeFile ok',
      'fs.promises.appendFile ok',
      'fs.promises.copyFile ok',
      'fs.promises.rename ok',
      `after the twins ${JSON.stringify(`${SECRET_TEXT}appended\n`)} "to be moved\\n"`,
      `write then close ok ${secretLine}`,
      `in order ${JSON.stringify(`${SECRET_TEXT}three\n`)} tags pii`,
      'copy in the same run ERR_PROVENANCE_DENIED absent',
      'its write ok',
    ]);
    for (const file of ['out/secret/w.txt', 'out/secret/handle.txt', 'out/secret/ordered.txt', 'out/secret/fresh.txt']) {
      const stored = ws.stored(file);
      expect(stored?.sources, file).toContain(ws.uri('secret/a.txt'));
      expect(stored?.labels.tags, file).toEqual(['pii']);
    }
    // Written while the context was clean: no provenance of the secret read after the call.
    expect(ws.stored('out/public/clean.txt')?.sources ?? []).not.toContain(ws.uri('secret/a.txt'));
  } finally {
    await ws.close();
  }
}, 60_000);

it('fails calls Node refuses with the same errors as plain Node: promises reject, callback calls throw or call back as plain', async () => {
  const ws = await createWorkspace();
  try {
    const plain = await ws.run('promise-errors.cjs', { preload: 'none' });
    const instrumented = await ws.run('promise-errors.cjs');
    expect(plain.code, plain.stderr).toBe(0);
    expect(instrumented.code, instrumented.stderr).toBe(0);
    const lines = plain.stdout.trim().split('\n');
    expect(lines).toHaveLength(21);
    for (const line of lines.slice(0, 16)) expect(line).toMatch(/ rejected (ERR_INVALID_ARG_TYPE|ERR_INVALID_ARG_VALUE|ENOENT|EBADF)$/);
    for (const line of lines.slice(16)) expect(line).toMatch(/ (callback ENOENT|threw ERR_INVALID_ARG_TYPE)$/);
    expect(instrumented.stdout.trim().split('\n')).toEqual(lines);
  } finally {
    await ws.close();
  }
}, 60_000);

it('resolves fs.promises.writeFile only once the provenance it decided is in the store', async () => {
  const ws = await createWorkspace();
  try {
    // The app kills itself with SIGKILL in the write's continuation: nothing of provenant runs after.
    const result = await ws.run('persist-then-kill.cjs');
    expect(result.signal, result.stderr).toBe('SIGKILL');
    expect(readFileSync(ws.abs('out/secret/persisted.txt'), 'utf8')).toBe(SECRET_TEXT);
    const stored = ws.stored('out/secret/persisted.txt');
    expect(stored?.sources).toContain(ws.uri('secret/a.txt'));
    expect(stored?.labels).toMatchObject({ confidentiality: 'secret', tags: ['pii'] });
  } finally {
    await ws.close();
  }
}, 60_000);
