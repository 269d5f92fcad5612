// fetch and WebSocket from a worker thread: a worker no longer loads Node's bundled undici at start
// (~14 ms of its CPU) nor SQLite (the store opens on a first file flow), yet undici's dispatcher is
// composed with provenant's interceptor before the app's first request, whichever global loaded
// undici. Denials prove nothing reached the listener.
import { afterAll, describe, expect, it } from 'vitest';
import { stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs } from '../helpers/tmp.js';
import { outcome, workspace } from './fixture.js';
import { httpOk, listen, websocketAccept, type Listener } from './listeners.js';

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

async function send(
  mode: 'secret' | 'clean',
  via: 'fetch' | 'websocket' | 'websocket-at-load',
): Promise<{ result: Record<string, unknown>; listener: Listener }> {
  const listener = await listen('127.0.0.2', via === 'fetch' ? httpOk : websocketAccept);
  try {
    const ws = workspace();
    const run = await ws.run('worker-fetch.cjs', { args: [mode, via, `http://127.0.0.2:${listener.port}/`] });
    expect(run.code, run.stderr).toBe(0);
    await listener.settle();
    return { result: outcome(run), listener };
  } finally {
    await listener.close();
  }
}

describe('undici in a worker thread', () => {
  it('a worker holding secret data cannot fetch() it to an unlabelled host: nothing connects', async () => {
    const { result, listener } = await send('secret', 'fetch');
    expect(result).toEqual({ undiciAtStart: false, sqliteAtStart: false, fetch: { code: 'ERR_PROVENANCE_DENIED' } });
    expect(listener.connections).toBe(0);
  });

  it('nor open a WebSocket to it after undici was loaded by another global (Headers)', async () => {
    const { result, listener } = await send('secret', 'websocket');
    expect(result).toEqual({ undiciAtStart: false, sqliteAtStart: false, websocket: 'closed' });
    expect(listener.connections).toBe(0);
  });

  it('nor open one in the very run that first loads undici (composed as the load completes)', async () => {
    const { result, listener } = await send('secret', 'websocket-at-load');
    expect(result).toEqual({ undiciAtStart: false, sqliteAtStart: false, websocket: 'closed' });
    expect(listener.connections).toBe(0);
  });

  it('the allowed twins: from a clean worker both reach the listener', async () => {
    const fetched = await send('clean', 'fetch');
    expect(fetched.result).toEqual({ undiciAtStart: false, sqliteAtStart: false, fetch: 200 });
    expect(fetched.listener.received).toContain('nothing secret');
    for (const via of ['websocket', 'websocket-at-load'] as const) {
      const socket = await send('clean', via);
      expect(socket.result).toEqual({ undiciAtStart: false, sqliteAtStart: false, websocket: 'closed' });
      expect(socket.listener.connections).toBe(1);
    }
  });
});
