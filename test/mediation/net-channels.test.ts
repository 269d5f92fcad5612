// UDP datagrams, DNS queries and unix-domain sockets are flows too: a datagram carrying a secret to an
// unlabelled address is never sent (the receiver counts zero datagrams), also on a UDP socket
// connected while the context was clean; a unix socket is `unix://<path>`, matched by path in the
// config. Each denial has an allowed twin.
import dgram from 'node:dgram';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNode } from '../helpers/spawn';
import { cleanupTempDirs } from '../helpers/tmp';
import { listen, type Listener } from './listeners';
import { netWorkspace } from './net-fixture';

const SECRET = 'udp-secret-payload';
const app = path.join(__dirname, 'fixtures', 'net-app.cjs');
let dir: string;
let env: Record<string, string>;

beforeAll(() => {
  ({ dir, env } = netWorkspace(SECRET, 'public', [
    '  - match: { path: "vault.sock" }',
    '    labels: { confidentiality: secret }',
    '  - match: { host: "allowed.test" }',
    '    labels: { confidentiality: secret }',
  ]));
});

afterAll(async () => {
  await cleanupTempDirs();
});

async function run(scenario: string, args: Record<string, unknown>): Promise<{ outcome: string; rule?: string }> {
  const result = await runNode({
    args: [app, scenario, JSON.stringify(args)],
    preload: 'require',
    cwd: dir,
    env,
  });
  expect(result.stderr).toBe('');
  const lines = result.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as { outcome: string; rule?: string };
}

interface UdpReceiver {
  readonly port: number;
  readonly datagrams: string[];
  /** Datagrams from one sender on loopback are queued in order: once our probe arrives, every earlier one has. */
  settle(): Promise<void>;
  close(): void;
}

async function receiveUdp(host: string): Promise<UdpReceiver> {
  const socket = dgram.createSocket('udp4');
  const datagrams: string[] = [];
  let probed: (() => void) | undefined;
  socket.on('message', (message) => {
    const text = message.toString();
    if (text === 'settle-probe') probed?.();
    else datagrams.push(text);
  });
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  const port = socket.address().port;
  return {
    port,
    datagrams,
    async settle() {
      const done = new Promise<void>((resolve) => (probed = resolve));
      const probe = dgram.createSocket('udp4');
      probe.send('settle-probe', port, host, () => probe.close());
      await done;
    },
    close: () => socket.close(),
  };
}

describe('UDP', () => {
  for (const scenario of ['udp', 'udp-connected']) {
    it(`${scenario}: no datagram carrying the secret reaches an unlabelled address; the labelled one gets it`, async () => {
      const [denied, allowed] = await Promise.all([receiveUdp('127.0.0.3'), receiveUdp('127.0.0.2')]);
      try {
        // 127.3: the denial holds for the host however it is written.
        expect(await run(scenario, { host: '127.3', port: denied.port })).toEqual({ outcome: 'denied', rule: 'confidentiality' });
        await denied.settle();
        expect(denied.datagrams).toEqual([]);
        expect(await run(scenario, { host: '127.0.0.2', port: allowed.port })).toEqual({ outcome: 'sent' });
        await allowed.settle();
        expect(allowed.datagrams).toEqual([SECRET]);
      } finally {
        denied.close();
        allowed.close();
      }
    });
  }
});

describe('UDP handles below dgram', () => {
  for (const own of [true, false]) {
    it(`a ${own ? "dgram socket's own" : 'process.binding'} UDP handle sent the secret straight: refused for an unlabelled address, taken for the labelled one`, async () => {
      const [denied, allowed] = await Promise.all([receiveUdp('127.0.0.3'), receiveUdp('127.0.0.2')]);
      try {
        expect(await run('udp-handle', { own, host: '127.0.0.3', port: denied.port })).toMatchObject({ outcome: 'refused' });
        await denied.settle();
        expect(denied.datagrams).toEqual([]);
        expect(await run('udp-handle', { own, host: '127.0.0.2', port: allowed.port })).toEqual({ outcome: 'sent' });
        await allowed.settle();
        expect(allowed.datagrams).toEqual([SECRET]);
      } finally {
        denied.close();
        allowed.close();
      }
    });
  }
});

describe('UDP from an ES module', () => {
  it('node:dgram first loaded by a static `import { createSocket }` (not at preload): the secret datagram is denied', async () => {
    const [denied, allowed] = await Promise.all([receiveUdp('127.0.0.3'), receiveUdp('127.0.0.2')]);
    const send = async (port: number, host: string): Promise<unknown> => {
      const script = path.join(__dirname, 'fixtures', 'udp-first-load.mjs');
      const result = await runNode({ args: [script, JSON.stringify({ host, port })], preload: 'import', cwd: dir, env });
      expect(result.stderr).toBe('');
      return JSON.parse(result.stdout);
    };
    try {
      expect(await send(denied.port, '127.0.0.3')).toEqual({ outcome: 'denied', rule: 'confidentiality' });
      await denied.settle();
      expect(denied.datagrams).toEqual([]);
      expect(await send(allowed.port, '127.0.0.2')).toEqual({ outcome: 'sent' });
      await allowed.settle();
      expect(allowed.datagrams).toEqual([SECRET]);
    } finally {
      denied.close();
      allowed.close();
    }
  });
});

describe('UDP to a host name', () => {
  it.each([false, true])(
    'connected: %s — a name the config allows, resolved by the socket lookup to an unlabelled address, sends nothing there',
    async (connected) => {
      const [denied, allowed] = await Promise.all([receiveUdp('127.0.0.3'), receiveUdp('127.0.0.2')]);
      try {
        const name = 'allowed.test';
        expect(await run('udp-lookup', { name, address: '127.0.0.3', port: denied.port, connected })).toEqual({
          outcome: 'denied',
          rule: 'confidentiality',
        });
        await denied.settle();
        expect(denied.datagrams).toEqual([]);
        expect(await run('udp-lookup', { name, address: '127.0.0.2', port: allowed.port, connected })).toEqual({ outcome: 'sent' });
        await allowed.settle();
        expect(allowed.datagrams).toEqual([SECRET]);
      } finally {
        denied.close();
        allowed.close();
      }
    },
  );
});

describe('DNS', () => {
  it('a query name carrying the secret is never sent to an unlabelled resolver; a resolver labelled secret gets it', async () => {
    const [denied, allowed] = await Promise.all([receiveUdp('127.0.0.3'), receiveUdp('127.0.0.2')]);
    try {
      expect(await run('dns', { host: '127.0.0.3', port: denied.port })).toEqual({ outcome: 'denied', rule: 'confidentiality' });
      await denied.settle();
      expect(denied.datagrams).toEqual([]);
      expect(await run('dns', { host: '127.0.0.2', port: allowed.port })).toEqual({ outcome: 'sent' });
      await allowed.settle();
      expect(allowed.datagrams.join('')).toContain(SECRET);
      expect(await run('dns-lookup', {})).toEqual({ outcome: 'denied', rule: 'confidentiality' });
      // No query leaves for an IP literal, so a secret context may look one up.
      expect(await run('dns-lookup-literal', {})).toEqual({ outcome: 'sent' });
    } finally {
      denied.close();
      allowed.close();
    }
  });
});

describe('unix-domain sockets', () => {
  let vault: Listener;
  let other: Listener;

  beforeAll(async () => {
    vault = await listen(path.join(dir, 'vault.sock'));
    other = await listen(path.join(dir, 'other.sock'));
  });

  afterAll(async () => {
    await Promise.all([vault.close(), other.close()]);
  });

  it('are unix://<path> resources: denied to an unlabelled path with zero connections, allowed to the path the config labels', async () => {
    expect(await run('unix', { path: path.join(dir, 'other.sock') })).toEqual({ outcome: 'denied', rule: 'confidentiality' });
    await other.settle();
    expect(other.connections).toBe(0);
    expect(await run('unix', { path: path.join(dir, 'vault.sock') })).toEqual({ outcome: 'sent' });
    await vault.settle();
    expect(vault.received).toBe(SECRET);
  });
});
