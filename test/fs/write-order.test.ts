// An asynchronous fd write waits for its provenance to be on disk before its bytes move; a
// synchronous write or a close the app makes meanwhile must not overtake it (plain Node has
// already handed the write to libuv's pool). sonic-boom's own tests failed on both under the
// preload before. A real process under the preload, enforce mode.
import { afterAll, expect, it } from 'vitest';
import { stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs } from '../helpers/tmp.js';
import { createWorkspace, SECRET_TEXT } from './fixture.js';

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

it('a writeSync and a close after an asynchronous write still waiting for the disk land after it', async () => {
  const ws = await createWorkspace();
  try {
    const result = await ws.run('write-order.cjs');
    expect(result.code, result.stderr).toBe(0);
    const first = `async ${SECRET_TEXT}`;
    expect(result.stdout.trim().split('\n')).toEqual([
      'writeSync returned',
      `write callback null ${first.length} ${JSON.stringify(first)}`,
      `ordered.txt ${JSON.stringify(`${first}sync\n`)}`,
      'in-flight write callback null 10',
      'close callback null',
      `closed.txt ${JSON.stringify('in flight\n')}`,
    ]);
    // Both files carry the secret's provenance.
    expect(ws.stored('out/secret/ordered.txt')?.sources).toContain(ws.uri('secret/a.txt'));
  } finally {
    await ws.close();
  }
});
