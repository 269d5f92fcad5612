// fds, FileHandles and MessagePorts handed to a worker by transfer are mediated on the worker's
// side: an fd by what it is (/proc/self/fd), a FileHandle adopted as its file, a port's posts
// decided like any port's. The worker reads secret data through a transferred fd and tries to
// send it out through each; nothing moves, and its public lines still do.
import { afterAll, describe, expect, it } from 'vitest';
import { stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs } from '../helpers/tmp.js';
import { outcome, workspace } from './fixture.js';

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

const denied = { code: 'ERR_PROVENANCE_DENIED', rule: 'confidentiality' };

describe('transferred to a worker', () => {
  it('secret data read through a transferred fd cannot leave through a transferred fd, FileHandle or MessagePort', async () => {
    const ws = workspace();
    const result = await ws.run('transfers.cjs', { args: ['secret'] });
    expect(result.code, result.stderr).toBe(0);
    expect(outcome(result)).toEqual({
      readSecretFd: 24,
      fd: denied,
      handle: denied,
      port: denied,
      leak: denied,
      fromPort: ['port: public\n'],
    });
    expect(ws.read('out/public/fd.txt')).toBe('fd: public\n');
    expect(ws.read('out/public/handle.txt')).toBe('handle: public\n');
    expect(ws.exists('out/public/leak.txt')).toBe(false);
  });

  it('the allowed twin: public data goes through all of them', async () => {
    const ws = workspace();
    const result = await ws.run('transfers.cjs', { args: ['public'] });
    expect(result.code, result.stderr).toBe(0);
    expect(outcome(result)).toEqual({
      fd: 'written',
      handle: 'written',
      port: 'written',
      leak: 'written',
      fromPort: ['port: nothing secret\n', 'port: public\n'],
    });
    expect(ws.read('out/public/fd.txt')).toBe('fd: nothing secret\nfd: public\n');
    expect(ws.read('out/public/handle.txt')).toBe('handle: nothing secret\nhandle: public\n');
  });
});
