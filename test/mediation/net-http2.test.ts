// HTTP/2 with HTTP/1's semantics: a session opened while the context was clean carries no later
// secret (each request and body write is decided), a connect from a secret context opens no
// connection, and a server's response is decided against its caller (403 problem+json).
import { existsSync, readFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNode, startNode, stopAll } from '../helpers/spawn';
import { cleanupTempDirs } from '../helpers/tmp';
import { netWorkspace } from './net-fixture';

const SECRET = 'h2-secret-payload';
const PUBLIC = 'h2-public-note';
const app = path.join(__dirname, 'fixtures', 'net-app.cjs');
let dir: string;
let env: Record<string, string>;

interface H2Listener {
  readonly host: string;
  readonly port: number;
  connections: number;
  paths: string[];
  received: string;
  /** A probe session's round trip: connections made earlier have been accepted, and their bytes read, by the time it answers. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** An h2c server counting connections, request paths and body bytes; answers 200 "ok". */
async function h2Listener(host: string): Promise<H2Listener> {
  const server = http2.createServer();
  const state = { connections: 0, paths: [] as string[], received: '' };
  server.on('connection', () => state.connections++);
  // PING payloads are bytes from the peer too.
  server.on('session', (session) => session.on('ping', (payload: Buffer) => (state.received += payload.toString())));
  server.on('stream', (stream, headers) => {
    if (headers[':path'] === '/settle-probe') state.connections--;
    else state.paths.push(String(headers[':path']));
    // A client that refuses its own stream cancels it: the server's stream then fails, which is no error of the test's.
    stream.on('error', () => undefined);
    stream.on('data', (chunk: Buffer) => (state.received += chunk.toString()));
    stream.on('end', () => {
      stream.respond({ ':status': 200 });
      stream.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(state, {
    host,
    port,
    settle: () =>
      new Promise<void>((resolve) => {
        const probe = http2.connect(`http://${host}:${port}`);
        const stream = probe.request({ ':path': '/settle-probe' });
        stream.resume();
        stream.on('end', () => probe.close(() => resolve()));
        stream.end();
      }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

beforeAll(() => {
  ({ dir, env } = netWorkspace(SECRET, PUBLIC));
});

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

async function run(scenario: string, args: Record<string, unknown>): Promise<{ outcome: string; rule?: string }> {
  const result = await runNode({ args: [app, scenario, JSON.stringify(args)], preload: 'require', cwd: dir, env });
  expect(result.stderr).toBe('');
  const lines = result.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as { outcome: string; rule?: string };
}

describe('HTTP/2 client', () => {
  it('a session opened while clean: the secret request is denied, the server saw only the clean one', async () => {
    const [denied, allowed] = await Promise.all([h2Listener('127.0.0.3'), h2Listener('127.0.0.2')]);
    try {
      expect(await run('h2-late', { host: denied.host, port: denied.port })).toEqual({ outcome: 'denied', rule: 'confidentiality' });
      await denied.settle();
      expect(denied.paths).toEqual(['/clean']);
      expect(denied.received).toBe('');
      expect(await run('h2-late', { host: allowed.host, port: allowed.port })).toEqual({ outcome: 'sent' });
      await expect.poll(() => allowed.received).toBe(SECRET);
    } finally {
      await Promise.all([denied.close(), allowed.close()]);
    }
  });

  it.each(['Writable.prototype.write.call', '_write', 'handle'])(
    'a stream opened while clean, the secret written around its write (%s): denied, the server got none of it; the labelled host gets it',
    async (way) => {
      const [denied, allowed] = await Promise.all([h2Listener('127.0.0.3'), h2Listener('127.0.0.2')]);
      try {
        const refusal = await run('h2-around', { host: denied.host, port: denied.port, way });
        expect(refusal.outcome === 'denied' || (way === 'handle' && refusal.outcome === 'failed'), JSON.stringify(refusal)).toBe(true);
        await denied.settle();
        expect(denied.received).toBe('');
        expect(await run('h2-around', { host: allowed.host, port: allowed.port, way })).toEqual({ outcome: 'sent' });
        await expect.poll(() => allowed.received).toBe(SECRET);
      } finally {
        await Promise.all([denied.close(), allowed.close()]);
      }
    },
  );

  it.each([false, true])(
    'a session whose createConnection dials another address than its authority (secret read after the request: %s): decided against the address dialled too',
    async (lateBody) => {
      const [denied, allowed] = await Promise.all([h2Listener('127.0.0.3'), h2Listener('127.0.0.2')]);
      try {
        // The authority names 127.0.0.2 (may hold secrets); the socket goes to 127.0.0.3 (may not).
        const elsewhere = { host: denied.host, port: denied.port, authority: '127.0.0.2', lateBody };
        expect(await run('h2-late', elsewhere)).toEqual({ outcome: 'denied', rule: 'confidentiality' });
        await denied.settle();
        // Late body: the request was made while clean (its HEADERS may leave); its body is what is refused.
        if (!lateBody) expect(denied.paths).toEqual(['/clean']);
        expect(denied.received).toBe('');
        expect(await run('h2-late', { ...elsewhere, host: allowed.host, port: allowed.port })).toEqual({ outcome: 'sent' });
        await expect.poll(() => allowed.received).toBe(SECRET);
      } finally {
        await Promise.all([denied.close(), allowed.close()]);
      }
    },
  );

  it('a PING payload carrying the secret on a session opened while clean is thrown back; the peer gets nothing', async () => {
    const [denied, allowed] = await Promise.all([h2Listener('127.0.0.3'), h2Listener('127.0.0.2')]);
    try {
      expect(await run('h2-ping', { host: denied.host, port: denied.port })).toEqual({ outcome: 'denied', rule: 'confidentiality' });
      await denied.settle();
      expect(denied.received).toBe('');
      expect(await run('h2-ping', { host: allowed.host, port: allowed.port })).toEqual({ outcome: 'sent' });
      await expect.poll(() => allowed.received).toBe(SECRET.slice(0, 8));
    } finally {
      await Promise.all([denied.close(), allowed.close()]);
    }
  });

  it("a stream the server pushes is read from its origin into the session's context: pushed secret data cannot be written to a public file", async () => {
    // Uninstrumented servers in regions 2 (secret) and 3 (public), each pushing /pushed with every response.
    const pushing = async (host: string): Promise<{ port: number; close: () => Promise<void> }> => {
      const server = http2.createServer();
      server.on('stream', (stream) => {
        stream.pushStream({ ':path': '/pushed' }, (error, pushed) => {
          if (error) return;
          pushed.respond({ ':status': 200 });
          pushed.end('pushed-data');
        });
        stream.respond({ ':status': 200 });
        stream.end('main');
      });
      await new Promise<void>((resolve) => server.listen(0, host, resolve));
      return { port: (server.address() as AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
    };
    const [secretRegion, publicRegion] = await Promise.all([pushing('127.0.0.2'), pushing('127.0.0.3')]);
    const provenant = path.resolve(__dirname, '..', '..', 'dist', 'index.js');
    try {
      expect(await run('h2-push', { host: '127.0.0.2', port: secretRegion.port, provenant, out: 'pushed-2.txt' })).toEqual({
        outcome: 'denied',
        rule: 'confidentiality',
      });
      expect(existsSync(path.join(dir, 'pushed-2.txt'))).toBe(false);
      expect(await run('h2-push', { host: '127.0.0.3', port: publicRegion.port, provenant, out: 'pushed-3.txt' })).toEqual({
        outcome: 'sent',
      });
      expect(readFileSync(path.join(dir, 'pushed-3.txt'), 'utf8')).toBe('pushed-data');
    } finally {
      await Promise.all([secretRegion.close(), publicRegion.close()]);
    }
  });

  it('http2.connect from a secret context opens no connection', async () => {
    const [denied, allowed] = await Promise.all([h2Listener('127.0.0.3'), h2Listener('127.0.0.2')]);
    try {
      expect(await run('h2-connect', { host: denied.host, port: denied.port })).toEqual({ outcome: 'denied', rule: 'confidentiality' });
      await denied.settle();
      expect(denied.connections).toBe(0);
      expect(await run('h2-connect', { host: allowed.host, port: allowed.port })).toEqual({ outcome: 'sent' });
      expect(allowed.received).toBe(SECRET);
    } finally {
      await Promise.all([denied.close(), allowed.close()]);
    }
  });
});

describe('HTTP/2 server', () => {
  it('a response carrying the secret to an unlabelled caller is a 403 problem+json (also through respondWithFD, before a push promise and on a pushed stream); a public one is served', async () => {
    const server = startNode({ args: [app, 'h2-server'], preload: 'require', cwd: dir, env });
    const port = Number((await server.waitForLine(/^listening (\d+)$/))[1]);
    const session = http2.connect(`http://127.0.0.1:${port}`);
    let pushes = 0;
    const pushed: { status: number; body: string }[] = [];
    session.on('stream', (stream: http2.ClientHttp2Stream) => {
      pushes++;
      const answer = { status: 0, body: '' };
      pushed.push(answer);
      stream.on('push', (headers) => (answer.status = Number(headers[':status'])));
      stream.on('data', (chunk: Buffer) => (answer.body += chunk.toString()));
    });
    const get = (urlPath: string): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const stream = session.request({ ':path': urlPath });
        let status = 0;
        let body = '';
        stream.on('response', (headers) => (status = Number(headers[':status'])));
        stream.on('data', (chunk: Buffer) => (body += chunk.toString()));
        stream.on('end', () => resolve({ status, body }));
        stream.on('error', reject);
      });
    try {
      const denied = await get('/secret');
      expect(denied.status).toBe(403);
      expect(denied.body).not.toContain(SECRET);
      expect(JSON.parse(denied.body)).toMatchObject({ rule: 'confidentiality', destination: 'tcp://127.0.0.1' });
      expect(await get('/public')).toEqual({ status: 200, body: PUBLIC });
      // respondWithFD: a read of the file behind the descriptor, then the response, decided.
      const fdDenied = await get('/fd/secret');
      expect(fdDenied.status).toBe(403);
      expect(fdDenied.body).not.toContain(SECRET);
      expect(await get('/fd/public')).toEqual({ status: 200, body: PUBLIC });
      // pushStream: decided before the PUSH_PROMISE frame; a denied push sends none.
      const pushDenied = await get('/push/secret');
      expect(pushDenied.status).toBe(403);
      expect(pushes).toBe(0);
      expect(await get('/push/public')).toEqual({ status: 200, body: PUBLIC });
      expect(pushes).toBe(1);
      // A stream pushed while clean answers the same caller in the same context: its response is decided too.
      expect((await get('/pushed/secret')).status).toBe(403);
      await expect.poll(() => pushed[1]?.status).toBe(403);
      expect(pushed[1]?.body).not.toContain(SECRET);
      expect(await get('/pushed/public')).toEqual({ status: 200, body: 'main' });
      await expect.poll(() => pushed[2]?.body).toBe(PUBLIC);
      // Headers out while clean, then a secret body: the stream is reset (the server's stream has no
      // 'error' listener and the server does not crash), the secret never arrives, the server lives on.
      const untilClose = (urlPath: string): Promise<{ status: number; body: string; rstCode: number | undefined }> =>
        new Promise((resolve) => {
          const stream = session.request({ ':path': urlPath });
          let status = 0;
          let body = '';
          stream.on('response', (headers) => (status = Number(headers[':status'])));
          stream.on('data', (chunk: Buffer) => (body += chunk.toString()));
          stream.on('error', () => undefined);
          stream.on('close', () => resolve({ status, body, rstCode: stream.rstCode }));
        });
      const late = await untilClose('/late/secret');
      expect(late.status).toBe(200);
      expect(late.body).not.toContain(SECRET);
      expect(late.rstCode).toBe(http2.constants.NGHTTP2_INTERNAL_ERROR);
      expect(await get('/late/public')).toEqual({ status: 200, body: `head\n${PUBLIC}` });
      // 103 Early Hints carrying the secret in a header: decided as the response, refused before any hint leaves.
      const hints: string[] = [];
      const early = (urlPath: string): Promise<{ status: number; body: string }> =>
        new Promise((resolve, reject) => {
          const stream = session.request({ ':path': urlPath });
          let status = 0;
          let body = '';
          stream.on('headers', (headers) => hints.push(String(headers['x-note'])));
          stream.on('response', (headers) => (status = Number(headers[':status'])));
          stream.on('data', (chunk: Buffer) => (body += chunk.toString()));
          stream.on('end', () => resolve({ status, body }));
          stream.on('error', reject);
        });
      expect((await early('/early/secret')).status).toBe(403);
      expect(hints).toEqual([]);
      expect(await early('/early/public')).toEqual({ status: 200, body: 'main' });
      expect(hints).toEqual([PUBLIC]);
      expect(server.child.exitCode).toBeNull();
    } finally {
      session.close();
      await server.kill();
    }
  });
});

describe('node:http2 patched as it is first loaded, not at preload', () => {
  const firstLoad = path.join(__dirname, 'fixtures', 'h2-first-load.mjs');
  const inWorker = path.join(__dirname, 'fixtures', 'h2-first-load-worker.mjs');

  async function runEsm(script: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    const result = await runNode({ args: [script, JSON.stringify(args)], preload: 'import', cwd: dir, env });
    expect(result.stderr).toBe('');
    return JSON.parse(result.stdout.trim()) as Record<string, unknown>;
  }

  it('the preload does not load it, in the main thread or in a worker', async () => {
    const code =
      "const { Worker } = require('node:worker_threads'); const loaded = () => process.moduleLoadList.includes('NativeModule http2');" +
      'new Worker(\'require("node:worker_threads").parentPort.postMessage(process.moduleLoadList.includes("NativeModule http2"))\', { eval: true })' +
      '.once("message", (worker) => { console.log(JSON.stringify({ main: loaded(), worker })); process.exit(0); });';
    const result = await runNode({ args: ['-e', code], preload: 'require', cwd: dir, env });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ main: false, worker: false });
  });

  it("an ES module's static `import { connect }` gets the patched function: from a secret context no connection opens", async () => {
    const [denied, allowed] = await Promise.all([h2Listener('127.0.0.3'), h2Listener('127.0.0.2')]);
    try {
      expect(await runEsm(firstLoad, { host: denied.host, port: denied.port, secret: true })).toEqual({
        outcome: 'denied',
        rule: 'confidentiality',
      });
      await denied.settle();
      expect(denied.connections).toBe(0);
      expect(denied.received).toBe('');
      expect(await runEsm(firstLoad, { host: allowed.host, port: allowed.port, secret: true })).toEqual({ outcome: 'sent' });
      expect(allowed.received).toBe(SECRET);
    } finally {
      await Promise.all([denied.close(), allowed.close()]);
    }
  });

  it('the same in a worker thread, the first thread of the process to load it', async () => {
    const [denied, allowed] = await Promise.all([h2Listener('127.0.0.3'), h2Listener('127.0.0.2')]);
    try {
      expect(await runEsm(inWorker, { host: denied.host, port: denied.port, secret: true })).toEqual({
        outcome: 'denied',
        rule: 'confidentiality',
        creatorLoadedHttp2: false,
      });
      await denied.settle();
      expect(denied.connections).toBe(0);
      expect(denied.received).toBe('');
      expect(await runEsm(inWorker, { host: denied.host, port: denied.port, secret: false })).toEqual({
        outcome: 'sent',
        creatorLoadedHttp2: false,
      });
      expect(denied.received).toBe('clean');
      expect(await runEsm(inWorker, { host: allowed.host, port: allowed.port, secret: true })).toEqual({
        outcome: 'sent',
        creatorLoadedHttp2: false,
      });
      expect(allowed.received).toBe(SECRET);
    } finally {
      await Promise.all([denied.close(), allowed.close()]);
    }
  });
});
