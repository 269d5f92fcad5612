// Complete mediation on sockets, tried as an attacker would: a write on a socket connected while
// the context was clean (raw, a pooled keep-alive HTTP socket, an app-provided undici pool), a
// reconnect elsewhere, a lookup or createConnection that dials another address than the name,
// IP literals in every form, a raw server writing to its client, an HTTP handler writing to the
// socket under its response. Listeners on 127.0.0.2-4 and ::1 stand in for regions; each denial
// is proven at the listener (zero connections, or zero bytes of the secret), and each has an
// allowed twin that works.
import { cpSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runNode, startNode, stopAll } from '../helpers/spawn';
import { cleanupTempDirs } from '../helpers/tmp';
import { journal } from '../net/helpers';
import { ask, httpOk, listen, redirectingUp, websocketAccept, type Listener } from './listeners';
import { netWorkspace } from './net-fixture';

const SECRET = 'the-secret-payload';
const PUBLIC = 'public-note';
const app = path.join(__dirname, 'fixtures', 'net-app.cjs');

let dir: string;
let env: Record<string, string>;
/** Region 2 may hold secrets; region 3 is unlabelled (public); region 4 is closed by a rule. */
let region2: Listener;
let region3: Listener;
let region4: Listener;
let http2: Listener;
let http3: Listener;
let v6Allowed: Listener;
let v6Unlabelled: Listener;

beforeAll(async () => {
  [region2, region3, region4, http2, http3, v6Allowed, v6Unlabelled] = await Promise.all([
    listen('127.0.0.2'),
    listen('127.0.0.3'),
    listen('127.0.0.4'),
    listen('127.0.0.2', httpOk),
    listen('127.0.0.3', httpOk),
    listen('::1'),
    listen('::1'),
  ]);
  // Hosts are written in non-canonical forms on purpose: the config is canonicalised too.
  ({ dir, env } = netWorkspace(SECRET, PUBLIC, [
    '  - match: { host: "allowed.test" }',
    '    labels: { confidentiality: secret }',
    `  - match: { host: "0:0:0:0:0:0:0:1", port: ${v6Allowed.port} }`,
    '    labels: { confidentiality: secret }',
    'rules:',
    '  - id: region-4-closed',
    '    deny: { destination: { host: "0x7f000004" } }',
    '    message: nothing goes to region 4',
  ]));
});

afterAll(async () => {
  await stopAll();
  await Promise.all([region2, region3, region4, http2, http3, v6Allowed, v6Unlabelled].map((l) => l.close()));
  await cleanupTempDirs();
});

interface Outcome {
  outcome: 'sent' | 'denied' | 'failed';
  rule?: string;
  code?: string;
}

async function run(scenario: string, args: Record<string, unknown>): Promise<Outcome> {
  const result = await runNode({ args: [app, scenario, JSON.stringify(args)], preload: 'require', cwd: dir, env });
  expect(result.stderr).toBe('');
  const lines = result.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as Outcome;
}

/** Run `scenario` against `listener` and settle it; returns the outcome and what the listener got from this run. */
async function against(
  listener: Listener,
  scenario: string,
  extra: Record<string, unknown> = {},
): Promise<Outcome & { connections: number; received: string }> {
  const before = { connections: listener.connections, received: listener.received.length };
  const outcome = await run(scenario, { host: listener.host, port: listener.port, ...extra });
  await listener.settle();
  return { ...outcome, connections: listener.connections - before.connections, received: listener.received.slice(before.received) };
}

describe('a socket connected while the context was clean carries no later secret', () => {
  it('raw TCP: the write after reading the secret is denied; the listener gets zero bytes', async () => {
    const denied = await against(region3, 'late-write');
    expect(denied).toMatchObject({ outcome: 'denied', rule: 'confidentiality', connections: 1, received: '' });
    const allowed = await against(region2, 'late-write');
    expect(allowed).toMatchObject({ outcome: 'sent', connections: 1, received: SECRET });
  });

  it('a pooled keep-alive HTTP socket written directly: denied, the listener sees only the clean request', async () => {
    const denied = await against(http3, 'pooled-socket');
    expect(denied).toMatchObject({ outcome: 'denied', connections: 1 });
    expect(denied.received).toMatch(/^GET \/ HTTP\/1.1\r\n/);
    expect(denied.received).not.toContain(SECRET);
    const allowed = await against(http2, 'pooled-socket');
    expect(allowed).toMatchObject({ outcome: 'sent', connections: 1 });
    expect(allowed.received).toContain(SECRET);
  });

  it('an app-provided undici pool: the secret request on the kept-alive connection is denied', async () => {
    const denied = await against(http3, 'app-dispatcher');
    expect(denied).toMatchObject({ outcome: 'denied', connections: 1 });
    expect(denied.received).toMatch(/^GET \/ HTTP\/1.1\r\n/);
    expect(denied.received).not.toContain(SECRET);
    const allowed = await against(http2, 'app-dispatcher');
    expect(allowed).toMatchObject({ outcome: 'sent' });
    expect(allowed.received).toContain(SECRET);
  });

  it.each(['client', 'pool', 'global', 'init', 'composed'])(
    "an app's own undici dispatcher (%s) is decided at the HTTP level: zero connections when denied",
    async (via) => {
      const denied = await against(http3, 'own-dispatcher', { via });
      expect(denied).toMatchObject({ outcome: 'denied', rule: 'confidentiality', connections: 0, received: '' });
      // Decided as the HTTP origin (not only as a raw TCP connect).
      expect(journal(dir).some((r) => r.decision === 'deny' && r.resource === `http://127.0.0.3:${http3.port}`)).toBe(true);
      const allowed = await against(http2, 'own-dispatcher', { via });
      expect(allowed).toMatchObject({ outcome: 'sent', connections: 1 });
      expect(allowed.received).toContain(SECRET);
    },
  );

  it('a request queued on a busy undici Client is decided with the context that made it, not the one that frees the connection', async () => {
    const provenant = path.resolve(__dirname, '..', '..', 'dist', 'index.js');
    const denied = await against(http3, 'queued-request', { provenant });
    expect(denied).toMatchObject({ outcome: 'denied', rule: 'confidentiality', connections: 1 });
    expect(denied.received).toMatch(/^GET \/clean HTTP\/1.1\r\n/);
    expect(denied.received).not.toContain(SECRET);
    const allowed = await against(http2, 'queued-request', { provenant });
    expect(allowed).toMatchObject({ outcome: 'sent', connections: 1 });
    expect(allowed.received).toContain(SECRET);
  });

  it.each(['pool', 'agent', 'fetch-pool', 'fetch-agent', 'request'])(
    'one connection (%s): a secret request waiting in the queue is decided with the context that made it; the listener never gets it',
    async (via) => {
      const provenant = path.resolve(__dirname, '..', '..', 'dist', 'index.js');
      const denied = await against(http3, 'queued-pool', { provenant, via });
      expect(denied).toMatchObject({ outcome: 'denied', rule: 'confidentiality', connections: 1 });
      expect(denied.received).toMatch(/^POST \/clean HTTP\/1.1\r\n/);
      expect(denied.received).toContain(PUBLIC);
      expect(denied.received).not.toContain('/up');
      expect(denied.received).not.toContain(SECRET);
      const allowed = await against(http2, 'queued-pool', { provenant, via });
      expect(allowed).toMatchObject({ outcome: 'sent', connections: 1 });
      expect(allowed.received).toContain(SECRET);
    },
  );

  it.each(['pool', 'agent', 'request', 'fetch-pool', 'own-fetch'])(
    "one connection (%s) of an undici copy provenant's require hook never saw (a second version under node_modules/x, loaded by its directory): the queued secret request is decided with the context that made it",
    async (via) => {
      const copy = path.join(dir, 'node_modules', 'x', 'node_modules', 'undici');
      cpSync(path.join(repoRoot, 'node_modules', 'undici'), copy, { recursive: true });
      const provenant = path.join(repoRoot, 'dist', 'index.js');
      const denied = await against(http3, 'queued-pool', { provenant, via, undici: copy });
      expect(denied).toMatchObject({ outcome: 'denied', rule: 'confidentiality', connections: 1 });
      expect(denied.received).toContain(PUBLIC);
      expect(denied.received).not.toContain('/up');
      expect(denied.received).not.toContain(SECRET);
      const allowed = await against(http2, 'queued-pool', { provenant, via, undici: copy });
      expect(allowed).toMatchObject({ outcome: 'sent', connections: 1 });
      expect(allowed.received).toContain(SECRET);
    },
  );

  it('one connection, undici imported by an ES module: the queued secret request is still decided with the context that made it', async () => {
    const esm = path.join(__dirname, 'fixtures', 'queued-pool.mjs');
    const send = async (listener: Listener): Promise<Outcome & { received: string }> => {
      const before = listener.received.length;
      const result = await runNode({
        args: [esm, JSON.stringify({ host: listener.host, port: listener.port })],
        preload: 'require',
        cwd: dir,
        env,
      });
      expect(result.stderr).toBe('');
      await listener.settle();
      return { ...(JSON.parse(result.stdout.trim()) as Outcome), received: listener.received.slice(before) };
    };
    const denied = await send(http3);
    expect(denied).toMatchObject({ outcome: 'denied', rule: 'confidentiality' });
    expect(denied.received).toContain(PUBLIC);
    expect(denied.received).not.toContain(SECRET);
    const allowed = await send(http2);
    expect(allowed).toMatchObject({ outcome: 'sent' });
    expect(allowed.received).toContain(SECRET);
  });

  it.each(['pool', 'fetch-agent'])(
    'one connection (%s): a clean request waiting behind a secret one is decided clean (allowed, recorded without secret labels)',
    async (via) => {
      const provenant = path.resolve(__dirname, '..', '..', 'dist', 'index.js');
      const allowed = await against(http2, 'queued-pool', { provenant, via, secretFirst: true });
      expect(allowed).toMatchObject({ outcome: 'sent', connections: 1 });
      expect(allowed.received).toContain(SECRET);
      expect(allowed.received).toContain(PUBLIC);
      const writes = journal(dir).filter((r) => r.op === 'write' && r.resource === `http://127.0.0.2:${http2.port}`);
      const url = (r: (typeof writes)[number]): unknown => (r as { attributes?: Record<string, unknown> }).attributes?.['url.full'];
      const clean = writes.filter((r) => String(url(r)).endsWith('/clean'));
      expect(clean.length).toBeGreaterThan(0);
      for (const record of clean) expect(record.labels.confidentiality).toBe('public');
    },
  );

  it("undici's redirect interceptor composed by the app follows a 307 in the request's context: the secret never reaches the denied region", async () => {
    const provenant = path.resolve(__dirname, '..', '..', 'dist', 'index.js');
    const [toDenied, toAllowed] = await Promise.all([
      listen('127.0.0.2', redirectingUp(`http://127.0.0.3:${http3.port}/moved`)),
      listen('127.0.0.2', redirectingUp(`http://127.0.0.2:${http2.port}/moved`)),
    ]);
    try {
      const before = { connections: http3.connections, received: http3.received.length };
      const denied = await against(toDenied, 'composed-redirect', { provenant });
      expect(denied).toMatchObject({ outcome: 'denied', rule: 'confidentiality' });
      expect(denied.received).toContain(SECRET);
      await http3.settle();
      expect({ connections: http3.connections - before.connections, received: http3.received.slice(before.received) }).toEqual({
        connections: 0,
        received: '',
      });
      const allowed = await against(toAllowed, 'composed-redirect', { provenant });
      expect(allowed).toMatchObject({ outcome: 'sent' });
      expect(http2.received).toContain('POST /moved HTTP/1.1');
    } finally {
      await Promise.all([toDenied.close(), toAllowed.close()]);
    }
  });

  it("a response through the app's own undici Client taints the context: read from region 2, it cannot go to region 3", async () => {
    const denied = await against(region3, 'dispatcher-response', { sourceHost: http2.host, sourcePort: http2.port });
    expect(denied).toMatchObject({ outcome: 'denied', rule: 'confidentiality', connections: 0, received: '' });
    const allowed = await against(region3, 'dispatcher-response', { sourceHost: http3.host, sourcePort: http3.port });
    expect(allowed).toMatchObject({ outcome: 'sent', connections: 1, received: 'ok' });
  });

  it.each(['net', 'tls-parent'])(
    'a new net.Socket (class reached through %s) around the descriptor of a socket connected while clean: the secret is denied, the listener gets zero bytes; public data goes',
    async (via) => {
      const denied = await against(region2, 'fd-socket', { data: 'secret', via });
      expect(denied).toMatchObject({ outcome: 'denied', rule: 'confidentiality', connections: 1, received: '' });
      const allowed = await against(region2, 'fd-socket', { data: 'public', via });
      expect(allowed).toMatchObject({ outcome: 'sent', connections: 1, received: PUBLIC });
    },
  );

  it("a WebSocket (fetch's dispatcher, upgraded) opened while clean: the secret message is never sent", async () => {
    const [denied, allowed] = await Promise.all([listen('127.0.0.3', websocketAccept), listen('127.0.0.2', websocketAccept)]);
    try {
      const afterHandshake = (text: string): string => text.slice(text.indexOf('\r\n\r\n') + 4);
      await against(denied, 'websocket');
      expect(denied.connections).toBe(1);
      expect(afterHandshake(denied.received)).toBe('');
      await against(allowed, 'websocket');
      // Masked frames: the message (and the close frame) arrived, as bytes after the handshake.
      expect(afterHandshake(allowed.received).length).toBeGreaterThan(SECRET.length);
    } finally {
      await Promise.all([denied.close(), allowed.close()]);
    }
  });
});

describe('the destination decided is the address actually dialled', () => {
  it('a socket reconnected elsewhere is decided again: zero connections to the denied region', async () => {
    const denied = await against(region3, 'reconnect', { first: region2.host, firstPort: region2.port });
    expect(denied).toMatchObject({ outcome: 'denied', connections: 0, received: '' });
    const allowed = await against(region2, 'reconnect', { first: region2.host, firstPort: region2.port });
    expect(allowed).toMatchObject({ outcome: 'sent', received: SECRET });
  });

  for (const [scenario, http] of [
    ['lookup', false],
    ['http-lookup', true],
    ['http-create-connection', true],
  ] as const) {
    it(`${scenario}: an allowed name dialled to a denied address opens no connection`, async () => {
      const denied = await against(http ? http3 : region3, scenario);
      expect(denied).toMatchObject({ outcome: 'denied', rule: 'confidentiality', connections: 0, received: '' });
      const allowed = await against(http ? http2 : region2, scenario);
      expect(allowed.received).toContain(SECRET);
    });
  }

  it.each(['create-connection', 'lookup'])(
    'http.request (%s) made while clean to an allowed name whose socket goes to a denied address: the later secret body never reaches it',
    async (via) => {
      const denied = await against(http3, 'http-late-elsewhere', { via });
      expect(denied).toMatchObject({ outcome: 'denied', rule: 'confidentiality' });
      expect(denied.received).not.toContain(SECRET);
      const allowed = await against(http2, 'http-late-elsewhere', { via });
      expect(allowed).toMatchObject({ outcome: 'sent' });
      expect(allowed.received).toContain(SECRET);
    },
  );

  it('IP literals in every form reach the rule written for the dotted form', async () => {
    const forms = (last: number): string[] => [
      `127.${last}`,
      String(0x7f000000 + last),
      `0x7f00000${last}`,
      `127.000.000.00${last}`,
      `::ffff:127.0.0.${last}`,
    ];
    for (const host of forms(4)) {
      const denied = await against(region4, 'literal', { host });
      expect({ host, ...denied }).toMatchObject({ host, outcome: 'denied', rule: 'region-4-closed', connections: 0 });
    }
    for (const host of forms(3)) {
      const allowed = await against(region3, 'literal', { host });
      expect({ host, ...allowed }).toMatchObject({ host, outcome: 'sent', connections: 1 });
    }
  });

  it('a write right after a denied connect: one error for the app (no crash), zero connections; the allowed twin sends', async () => {
    const denied = await against(region3, 'write-after-denied-connect');
    expect(denied).toMatchObject({ outcome: 'denied', rule: 'confidentiality', connections: 0, received: '' });
    const allowed = await against(region2, 'write-after-denied-connect');
    expect(allowed).toMatchObject({ outcome: 'sent', connections: 1, received: SECRET });
  });

  it('IPv6: ::1 unlabelled gets no secret (zero connections); the port labelled through another spelling of ::1 does', async () => {
    const denied = await against(v6Unlabelled, 'secret-connect');
    expect(denied).toMatchObject({ outcome: 'denied', connections: 0 });
    const allowed = await against(v6Allowed, 'secret-connect', { host: '0:0:0:0:0:0:0:1' });
    expect(allowed).toMatchObject({ outcome: 'sent', received: SECRET });
  });
});

/** Connect to `port`, send `line`, and collect what comes back until the server closes. */
describe('incoming connections', () => {
  it('a raw net.Server: data read is from tcp://<caller address>; a secret written to the client is denied', async () => {
    const server = startNode({ args: [app, 'raw-server'], preload: 'require', cwd: dir, env });
    const port = Number((await server.waitForLine(/^listening (\d+)$/))[1]);
    expect(await ask(port, 'secret')).toBe('');
    await server.waitForLine(/"outcome":"denied"/);
    expect(await ask(port, 'public')).toBe(PUBLIC);
    await server.waitForLine(/"outcome":"sent"/);
    await server.kill();
    const records = journal(dir).filter((record) => record.service === 'app');
    // One resource per caller, not one per connection: no ephemeral port.
    expect(records.some((record) => record.op === 'read' && record.resource === 'tcp://127.0.0.1')).toBe(true);
    expect(records.some((record) => record.decision === 'deny' && record.resource === 'tcp://127.0.0.1')).toBe(true);
  });

  it('an HTTP handler writing to res.socket is decided: the secret never reaches the caller', async () => {
    const server = startNode({ args: [app, 'res-socket'], preload: 'require', cwd: dir, env });
    const port = Number((await server.waitForLine(/^listening (\d+)$/))[1]);
    expect(await ask(port, 'GET /secret HTTP/1.1\r\nhost: x\r\n\r\n')).toBe('');
    await server.waitForLine(/"outcome":"denied"/);
    expect(await ask(port, 'GET /public HTTP/1.1\r\nhost: x\r\n\r\n')).toContain(PUBLIC);
    await server.kill();
  });
});
