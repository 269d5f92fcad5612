// HTTP-level mediation beyond request/response bodies: early hints, a ClientRequest constructed
// directly. Listeners on 127.0.0.2 (may hold secrets) and 127.0.0.3 (unlabelled, public) count
// connections and bytes; each denial is proven at the listener or at the caller, with an allowed twin.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNode, startNode, stopAll } from '../helpers/spawn';
import { cleanupTempDirs } from '../helpers/tmp';
import { journal } from '../net/helpers';
import { ask, httpOk, listen, type Listener } from './listeners';
import { netWorkspace } from './net-fixture';

const SECRET = 'the-secret-payload';
const PUBLIC = 'public-note';
const app = path.join(__dirname, 'fixtures', 'http-app.cjs');

let dir: string;
let env: Record<string, string>;
let allowed: Listener;
let unlabelled: Listener;

beforeAll(async () => {
  ({ dir, env } = netWorkspace(SECRET, PUBLIC));
  [allowed, unlabelled] = await Promise.all([listen('127.0.0.2', httpOk), listen('127.0.0.3', httpOk)]);
});

afterAll(async () => {
  await stopAll();
  await Promise.all([allowed, unlabelled].map((l) => l.close()));
  await cleanupTempDirs();
});

interface Outcome {
  outcome: 'sent' | 'denied' | 'failed';
  rule?: string;
}

async function against(listener: Listener, scenario: string): Promise<Outcome & { connections: number; received: string }> {
  const before = { connections: listener.connections, received: listener.received.length };
  const result = await runNode({
    args: [app, scenario, JSON.stringify({ host: listener.host, port: listener.port })],
    preload: 'require',
    cwd: dir,
    env,
  });
  expect(result.stderr).toBe('');
  const lines = result.stdout.trim().split('\n');
  await listener.settle();
  return {
    ...(JSON.parse(lines[lines.length - 1]) as Outcome),
    connections: listener.connections - before.connections,
    received: listener.received.slice(before.received),
  };
}

describe('responses', () => {
  it('res.writeEarlyHints() is decided before its header block: a denied response sends no 103, only the 403', async () => {
    const server = startNode({ args: [app, 'early-hints'], preload: 'require', cwd: dir, env });
    const port = Number((await server.waitForLine(/^listening (\d+)$/))[1]);
    const denied = await ask(port, 'GET /secret HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    expect(denied).toMatch(/^HTTP\/1.1 403 /);
    expect(denied).not.toContain('103');
    expect(denied).not.toContain('style.css');
    expect(denied).not.toContain(SECRET);
    // The app's callback is still called (as for any withheld response write).
    await server.waitForLine(/^hints-callback$/);
    const sent = await ask(port, 'GET /public HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    expect(sent).toMatch(/^HTTP\/1.1 103 Early Hints\r\nLink: <\/style.css>; rel=preload; as=style\r\n\r\nHTTP\/1.1 200 OK/);
    expect(sent).toContain(PUBLIC);
    await server.kill();
  });
});

describe('clients', () => {
  it('new http.ClientRequest() used directly is decided at the HTTP level: zero connections when denied', async () => {
    const denied = await against(unlabelled, 'client-request');
    expect(denied).toMatchObject({ outcome: 'denied', rule: 'confidentiality', connections: 0, received: '' });
    expect(journal(dir).some((r) => r.decision === 'deny' && r.resource === `http://127.0.0.3:${unlabelled.port}`)).toBe(true);
    const sent = await against(allowed, 'client-request');
    expect(sent).toMatchObject({ outcome: 'sent', connections: 1 });
    expect(sent.received).toContain(SECRET);
  });
});

describe('a denied write fails through its callback, the same on a response, a socket and a ClientRequest', () => {
  interface Callbacks {
    callbacks: (string | null)[];
    errors: string[];
  }

  async function writeWith(via: string, listener: Listener, file: string): Promise<Callbacks & { received: string }> {
    const before = listener.received.length;
    const args = JSON.stringify({ via, host: listener.host, port: listener.port, file });
    const result = await runNode({ args: [app, 'write-callback', args], preload: 'require', cwd: dir, env });
    expect(result.stderr).toBe('');
    await listener.settle();
    return { ...(JSON.parse(result.stdout.trim().split('\n').pop() as string) as Callbacks), received: listener.received.slice(before) };
  }

  it.each(['socket', 'request'])(
    '%s: the callback gets the denial once, one error event (the stream is destroyed), nothing of the secret leaves',
    async (via) => {
      const denied = await writeWith(via, unlabelled, 'secret');
      expect(denied).toMatchObject({ callbacks: ['ERR_PROVENANCE_DENIED'], errors: ['ERR_PROVENANCE_DENIED'] });
      expect(denied.received).not.toContain(SECRET);
      const sent = await writeWith(via, allowed, 'secret');
      expect(sent).toMatchObject({ callbacks: [null], errors: [] });
      expect(sent.received).toContain(SECRET);
    },
  );

  it('a server response: the callback gets the denial once, no error event (the app never crashes), the caller gets the 403', async () => {
    const server = startNode({ args: [app, 'response-callback'], preload: 'require', cwd: dir, env });
    const port = Number((await server.waitForLine(/^listening (\d+)$/))[1]);
    const denied = await ask(port, 'GET /secret HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    expect(denied).toMatch(/^HTTP\/1.1 403 /);
    expect(denied).not.toContain(SECRET);
    const secretLine = await server.waitForLine(/^\{"path":"\/secret".*$/);
    expect(JSON.parse(secretLine[0])).toEqual({ path: '/secret', callbacks: ['ERR_PROVENANCE_DENIED'], errors: [] });
    const sent = await ask(port, 'GET /public HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    expect(sent).toContain(PUBLIC);
    const publicLine = await server.waitForLine(/^\{"path":"\/public".*$/);
    expect(JSON.parse(publicLine[0])).toEqual({ path: '/public', callbacks: [null], errors: [] });
    await server.kill();
  });
});
