// Node's raw bindings (process.binding), tried as an attacker would: a labelled file's bytes
// written through the fs binding, `sh` started through spawn_sync and process_wrap, a DNS query
// made of the secret sent through cares_wrap's own channel. Enforce mode refuses each binding
// (nothing written, no process started, no packet at the resolver); audit mode is the twin that
// shows each try is real, with one stderr line. The bindings libraries use are still served.
import dgram from 'node:dgram';
import { once } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import { stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs } from '../helpers/tmp.js';
import { outcome, SECRET_TEXT, workspace } from './fixture.js';

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

const REFUSED = 'denied:introspection';
const AUDIT = { PROVENANT_MODE: 'audit' };

describe('process.binding reaches no unmediated byte path in enforce mode', () => {
  for (const [attempt, written] of [
    ['fs', 'out/public/raw.txt'],
    ['spawn_sync', 'out/public/spawn_sync.txt'],
    ['process_wrap', 'out/public/process_wrap.txt'],
  ] as const) {
    it(`${attempt}: refused, nothing written (no process started); audit mode writes the secret and says so once`, async () => {
      const ws = workspace();
      const enforced = await ws.run('raw-bindings.cjs', { args: [attempt] });
      expect(enforced.code, enforced.stderr).toBe(0);
      expect(outcome(enforced)).toEqual({ [attempt]: REFUSED });
      expect(ws.exists(written)).toBe(false);
      const audited = await ws.run('raw-bindings.cjs', { args: [attempt], env: AUDIT });
      expect(audited.code, audited.stderr).toBe(0);
      expect(outcome(audited)).toEqual({ [attempt]: attempt === 'fs' ? 'wrote' : 'spawned:0' });
      expect(ws.read(written)).toBe(SECRET_TEXT);
      const warnings = audited.stderr.split('\n').filter((line) => line.includes(`process.binding('${attempt}')`));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^provenant: .*enforce mode refuses it$/);
    });
  }

  it('cares_wrap: no query reaches the resolver in enforce mode (its channel is not served); audit mode sends the secret as a name', async () => {
    const resolver = dgram.createSocket('udp4');
    resolver.bind(0, '127.0.0.1');
    await once(resolver, 'listening');
    const { port } = resolver.address();
    const received: Buffer[] = [];
    resolver.on('message', (message: Buffer) => received.push(message));
    try {
      const ws = workspace();
      const enforced = await ws.run('raw-bindings.cjs', { args: ['cares_wrap', String(port)] });
      expect(outcome(enforced)).toEqual({ cares_wrap: 'absent' });
      // Datagrams on loopback queue in order: once this one is read, any the app sent was too.
      const canary = Buffer.from('canary');
      resolver.send(canary, port, '127.0.0.1');
      while (!received.some((message) => message.equals(canary))) await once(resolver, 'message');
      expect(received).toEqual([canary]);

      const audited = await ws.run('raw-bindings.cjs', { args: ['cares_wrap', String(port)], env: AUDIT });
      expect(outcome(audited)).toEqual({ cares_wrap: 'queried' });
      const name = Buffer.from(Buffer.from(SECRET_TEXT).toString('hex').slice(0, 40));
      while (!received.some((message) => message.includes(name))) await once(resolver, 'message');
      expect(audited.stderr).toContain("provenant: process.binding('cares_wrap') reaches DNS queries and lookups");
    } finally {
      resolver.close();
    }
  });

  it('the bindings libraries use are still served: constants, natives, util, buffer, the locked handle bindings, address helpers', async () => {
    const ws = workspace();
    const enforced = await ws.run('raw-bindings.cjs', { args: ['served'] });
    expect(enforced.code, enforced.stderr).toBe(0);
    const served = {
      constants: 'number',
      natives: 'string',
      util: true,
      buffer: 'number',
      tcp_wrap: 'function',
      canonicalizeIP: '::ffff:127.0.0.1',
      inspectorUrl: 'function',
    };
    expect(outcome(enforced)).toEqual({ served: { ...served, getaddrinfo: 'undefined', fs_event_wrap: REFUSED } });
    const audited = await ws.run('raw-bindings.cjs', { args: ['served'], env: AUDIT });
    expect(outcome(audited)).toEqual({ served: { ...served, getaddrinfo: 'function', fs_event_wrap: 'function' } });
  });
});
