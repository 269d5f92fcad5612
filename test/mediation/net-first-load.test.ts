// Network built-ins (net, tls, http, https, dns) are not loaded by the preload: the first of them
// a thread loads, however it loads it, is patched with all the others before the app gets it.
// In a worker (no socket for stdout), a dynamic ESM import or a require is the thread's first
// network load; from a secret context nothing reaches the unlabelled listener, and the allowed
// twins reach it. process.moduleLoadList lists every module loaded for that by the time the send ends.
import { afterAll, describe, expect, it } from 'vitest';
import { stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs } from '../helpers/tmp.js';
import { outcome, workspace } from './fixture.js';
import { httpOk, listen, type Listener } from './listeners.js';

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

type Via = 'import-http' | 'require-net' | 'import-tls';

async function send(mode: 'secret' | 'clean', via: Via): Promise<{ result: Record<string, unknown>; listener: Listener }> {
  const listener = await listen('127.0.0.2', via === 'import-http' ? httpOk : undefined);
  try {
    const run = await workspace().run('worker-net-first-load.mjs', { args: [mode, via, String(listener.port)] });
    expect(run.code, run.stderr).toBe(0);
    await listener.settle();
    return { result: outcome(run), listener };
  } finally {
    await listener.close();
  }
}

describe("a thread's first network load", () => {
  it.each<Via>(['import-http', 'require-net', 'import-tls'])('%s from a secret context is denied: nothing connects', async (via) => {
    const { result, listener } = await send('secret', via);
    expect(result).toEqual({ loadedAtStart: [], send: { code: 'ERR_PROVENANCE_DENIED' }, listed: true });
    expect(listener.connections).toBe(0);
    expect(listener.received).toBe('');
  });

  it('the allowed twins: from a clean context the data arrives', async () => {
    const http = await send('clean', 'import-http');
    expect(http.result).toEqual({ loadedAtStart: [], send: 200, listed: true });
    expect(http.listener.received).toContain('nothing secret');
    const net = await send('clean', 'require-net');
    expect(net.result).toEqual({ loadedAtStart: [], send: 'sent', listed: true });
    expect(net.listener.received).toBe('nothing secret\n');
  });
});
