// Asynchronous fs writes commit their file's provenance without an fsync on the caller's thread
// and move their bytes once it is synced: a process killed with SIGKILL right after writes
// resolved leaves every one of those files' provenance in the store, and a denied asynchronous
// write (promise, callback, FileHandle) still moves nothing. A real process under the preload.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startNode, stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs } from '../helpers/tmp.js';
import { appsDir, createWorkspace, distIndex, SECRET_TEXT } from './fixture.js';

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
    expect(lines.slice(0, 3)).toEqual(['denied ERR_PROVENANCE_DENIED', 'denied ERR_PROVENANCE_DENIED', 'denied ERR_PROVENANCE_DENIED']);
    expect(existsSync(ws.abs('out/public/leak.txt'))).toBe(false);
    const resolved = lines.flatMap((line) => /^resolved (\d+)$/.exec(line)?.[1] ?? []);
    expect(resolved.length).toBeGreaterThanOrEqual(31);
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
