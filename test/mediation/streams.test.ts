// A shared fs.WriteStream written from several flow contexts: each write() is decided with the
// context that calls it; a denied write fails that caller's write only, the stream and the other
// contexts' lines are unaffected. A real process under the preload, enforce mode.
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs } from '../helpers/tmp.js';
import { createWorkspace } from './files-fixture.js';

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

it.each(['path', 'handle'])(
  'a WriteStream (from a %s) shared by three contexts keeps the allowed lines and drops only the denied ones',
  async (kind) => {
    const ws = createWorkspace();
    const result = await ws.run([path.join(__dirname, 'apps', 'shared-stream.cjs'), ws.root, kind]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      a1: 'ok',
      b: 'ERR_PROVENANCE_DENIED',
      a2: 'ok',
      bEnd: 'ERR_PROVENANCE_DENIED',
      destroyedByError: false,
    });
    expect(ws.read('out/public/log.txt')).toBe('A1\nA2\n');
  },
);
