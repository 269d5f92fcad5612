// A socket write the app cannot undo: a socket connected while the context was clean, then the
// secret written to it through every path below `socket.write` an attacker might take (the stream
// prototypes called directly, `_write`/`_writev`/`_writeGeneric`, cork/uncork, pipeline, the
// handle's own write methods, prototypes "restored" or swapped, a new socket around the handle or
// a new TLS socket around a plain one, a write while still connecting), on TCP, TLS and unix
// sockets, and through a TCP or Pipe handle the app makes itself. Each denial is proven at the
// listener (the connection, made while clean, received zero bytes); each allowed twin delivers
// the secret once per path.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNode, stopAll } from '../helpers/spawn';
import { cleanupTempDirs } from '../helpers/tmp';
import { listen, type Listener } from './listeners';
import { netWorkspace } from './net-fixture';

const SECRET = 'the-secret-payload';
const PUBLIC = 'public-note';
const app = path.join(__dirname, 'fixtures', 'socket-writes-app.cjs');
const tlsFixtures = path.join(__dirname, '..', 'net', 'fixtures', 'tls');

let dir: string;
let env: Record<string, string>;
/** 127.0.0.2 may hold secrets; 127.0.0.3 is unlabelled (public). */
let region2: Listener;
let region3: Listener;
let vault: Listener;
let other: Listener;
let tls2: TlsListener;
let tls3: TlsListener;

interface TlsListener {
  readonly host: string;
  readonly port: number;
  /** Plaintext received and connections accepted, final once the app's process has exited and every connection closed. */
  readonly received: () => string;
  readonly connections: () => number;
  settle(): Promise<void>;
  close(): Promise<void>;
}

async function listenTls(host: string): Promise<TlsListener> {
  let received = '';
  let connections = 0;
  const open = new Set<Promise<void>>();
  const server = tls.createServer(
    { key: readFileSync(path.join(tlsFixtures, 'key.pem')), cert: readFileSync(path.join(tlsFixtures, 'cert.pem')) },
    (socket) => {
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
      socket.on('error', () => undefined);
    },
  );
  // Counted from the TCP connection: a client may drop one before the server's handshake ends;
  // its 'close' comes after the TLS socket's last plaintext.
  server.on('connection', (socket: net.Socket) => {
    connections++;
    open.add(new Promise((resolve) => socket.on('close', () => resolve())));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    host,
    port: (server.address() as net.AddressInfo).port,
    received: () => received,
    connections: () => connections,
    settle: async () => {
      await Promise.all(open);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

beforeAll(async () => {
  ({ dir, env } = netWorkspace(SECRET, PUBLIC, ['  - match: { path: "vault.sock" }', '    labels: { confidentiality: secret }']));
  [region2, region3, vault, other, tls2, tls3] = await Promise.all([
    listen('127.0.0.2'),
    listen('127.0.0.3'),
    listen(path.join(dir, 'vault.sock')),
    listen(path.join(dir, 'other.sock')),
    listenTls('127.0.0.2'),
    listenTls('127.0.0.3'),
  ]);
});

afterAll(async () => {
  await stopAll();
  await Promise.all([region2, region3, vault, other, tls2, tls3].map((l) => l.close()));
  await cleanupTempDirs();
});

async function attack(target: Record<string, unknown>): Promise<Record<string, string>> {
  const result = await runNode({ args: [app, JSON.stringify(target)], preload: 'require', cwd: dir, env });
  expect(result.stderr).toBe('');
  const lines = result.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? '{}') as Record<string, string>;
}

/**
 * Denied like the others; allowed, it cannot send either: with Duplex.prototype in place of
 * net.Socket's, Node has no `_write` to send with (the twin shows provenant did not stop it).
 */
const BARE_DUPLEX = 'setPrototypeOf(socket, Duplex.prototype)';
const ATTACKS = [
  'Writable.prototype.write.call',
  'Duplex.prototype.write.call',
  'Writable.prototype.end.call',
  '_write',
  '_writev',
  '_writeGeneric',
  'cork, writes, uncork',
  'stream.pipeline',
  'handle.writeUtf8String',
  'handle.writeLatin1String',
  'handle.writeBuffer',
  'handle.writev',
  'handle prototype method',
  'restored prototypes',
  'a prototype put in between',
  'socket.write = Writable.prototype.write',
  'new net.Socket({ handle })',
  BARE_DUPLEX,
];
const WHILE_CONNECTING = ['still connecting: _write', 'still connecting: write'];
const TLS_ONLY = ['new tls.TLSSocket(plain socket)'];

const every = (names: readonly string[], outcome: string): Record<string, string> =>
  Object.fromEntries(names.map((name) => [name, outcome]));
const occurrences = (text: string, of: string): number => text.split(of).length - 1;

/** Runs every attack against `denied`, then against `allowed`, on listeners counting connections and bytes. */
async function deniedThenAllowed(
  names: readonly string[],
  denied: { run: Record<string, unknown>; settle(): Promise<void>; counts(): { connections: number; received: string } },
  allowed: { run: Record<string, unknown>; settle(): Promise<void>; counts(): { connections: number; received: string } },
): Promise<void> {
  const before = denied.counts();
  expect(await attack(denied.run)).toEqual(every(names, 'denied:confidentiality'));
  await denied.settle();
  const after = denied.counts();
  // Every socket but those still connecting connected while clean; not one byte of any of them arrived.
  const connectedFirst = names.filter((name) => !WHILE_CONNECTING.includes(name)).length;
  expect(after.connections - before.connections).toBeGreaterThanOrEqual(connectedFirst);
  expect(after.connections - before.connections).toBeLessThanOrEqual(names.length);
  expect(after.received.slice(before.received.length)).toBe('');

  const start = allowed.counts().received.length;
  const sending = names.filter((name) => name !== BARE_DUPLEX);
  const twins = {
    ...every(sending, 'sent'),
    ...(names.includes(BARE_DUPLEX) ? { [BARE_DUPLEX]: 'failed:ERR_METHOD_NOT_IMPLEMENTED' } : {}),
  };
  expect(await attack(allowed.run)).toEqual(twins);
  await allowed.settle();
  const got = allowed.counts().received.slice(start);
  expect(occurrences(got, SECRET)).toBe(sending.length);
  expect(got).toContain(`x-${SECRET}-y`);
}

const counts = (listener: Listener) => () => ({ connections: listener.connections, received: listener.received });

describe('a socket write the app cannot undo', () => {
  it('TCP: every path below socket.write is decided with the writing context; zero bytes when denied', async () => {
    const names = [...ATTACKS, ...WHILE_CONNECTING];
    await deniedThenAllowed(
      names,
      { run: { host: region3.host, port: region3.port }, settle: () => region3.settle(), counts: counts(region3) },
      { run: { host: region2.host, port: region2.port }, settle: () => region2.settle(), counts: counts(region2) },
    );
  });

  it('unix sockets: the same paths, decided as unix://<path>', async () => {
    const names = [...ATTACKS, ...WHILE_CONNECTING];
    await deniedThenAllowed(
      names,
      { run: { path: path.join(dir, 'other.sock') }, settle: () => other.settle(), counts: counts(other) },
      { run: { path: path.join(dir, 'vault.sock') }, settle: () => vault.settle(), counts: counts(vault) },
    );
  });

  it('TLS: the plaintext paths (TLSWrap for the handle) are decided; zero plaintext bytes when denied', async () => {
    const tlsCounts = (listener: TlsListener) => () => ({ connections: listener.connections(), received: listener.received() });
    await deniedThenAllowed(
      [...ATTACKS, ...TLS_ONLY],
      { run: { host: tls3.host, port: tls3.port, tls: true }, settle: () => tls3.settle(), counts: tlsCounts(tls3) },
      { run: { host: tls2.host, port: tls2.port, tls: true }, settle: () => tls2.settle(), counts: tlsCounts(tls2) },
    );
  });

  it.each([
    ['a TCP handle', () => region2, {}],
    ['a TCP handle re-prototyped as a Pipe', () => region2, { raw: 'tcp-as-pipe' }],
    ['a Pipe handle, to a unix socket that may hold secrets,', () => vault, {}],
  ] as const)('%s no socket owns (process.binding) carries no labelled data; clean data still goes', async (_name, listener, variant) => {
    const target = listener();
    const before = target.received.length;
    const to = target.host.startsWith('/') ? { path: target.host } : { host: target.host, port: target.port };
    const run = { raw: true, ...to, ...variant };
    expect(await attack(run)).toEqual({ raw: 'refused' });
    await target.settle();
    expect(target.received.slice(before)).toBe('');
    expect(await attack({ ...run, read: 'public' })).toEqual({ raw: 'sent' });
    await target.settle();
    expect(target.received.slice(before)).toBe(PUBLIC);
  });
});
