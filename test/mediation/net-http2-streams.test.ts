// HTTP/2 server streams run their events in their request's context, as HTTP/1 requests do: two
// concurrent streams on one session, one reading the secret in its handler or its 'data', 'end' or
// 'trailers' event (through the server's 'stream' event, the session's, the compatibility API, a
// session http2.performServerHandshake made of a raw socket, or a TLS server that also answers
// HTTP/1.1). The one that read it may not write it to a public file nor answer it to an
// unlabelled caller (the file is never created, the answer is a 403); its twin, clean, writes and
// answers.
import { existsSync, readFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode, stopAll, type NodeProcess } from '../helpers/spawn';
import { cleanupTempDirs } from '../helpers/tmp';
import { netWorkspace } from './net-fixture';

const app = path.join(__dirname, 'fixtures', 'h2-stream-contexts.cjs');
let dir: string;
let env: Record<string, string>;

beforeAll(() => {
  ({ dir, env } = netWorkspace('h2-stream-secret', 'h2-stream-public'));
});

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

interface Answer {
  readonly status: number;
  readonly body: string;
}

/** One request on `session` with `body` (and trailers when asked), without ending it until `release` resolves. */
function request(
  session: http2.ClientHttp2Session,
  urlPath: string,
  body: string,
  trailers: boolean,
  release: Promise<void>,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': urlPath }, { waitForTrailers: trailers });
    if (trailers) stream.on('wantTrailers', () => stream.sendTrailers({ 'x-done': '1' }));
    let status = 0;
    let text = '';
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
    stream.on('end', () => resolve({ status, body: text }));
    stream.on('error', reject);
    stream.write(body);
    void release.then(() => stream.end());
  });
}

const cases: [shape: string, event: string][] = [
  ['stream', 'data'],
  ['stream', 'end'],
  ['stream', 'trailers'],
  ['session', 'data'],
  ['session', 'end'],
  ['session', 'trailers'],
  ['session', 'handler'],
  ['compat', 'data'],
  ['compat', 'end'],
  ['compat', 'handler'],
  ['handshake', 'data'],
  ['handshake', 'end'],
  ['compat-tls', 'data'],
];

const ca = readFileSync(path.join(__dirname, '..', 'net', 'fixtures', 'tls', 'cert.pem'));

describe('HTTP/2 server stream events run in their request context', () => {
  const servers = new Map<string, NodeProcess>();
  const portOf = async (shape: string): Promise<number> => {
    let server = servers.get(shape);
    if (server === undefined) {
      server = startNode({ args: [app, shape], preload: 'require', cwd: dir, env });
      servers.set(shape, server);
    }
    return Number((await server.waitForLine(/^listening (\d+)$/))[1]);
  };

  it.each(cases)('%s API, secret read in %s: that stream is refused, its concurrent twin is not', async (shape, event) => {
    const port = await portOf(shape);
    const session = shape === 'compat-tls' ? http2.connect(`https://127.0.0.1:${port}`, { ca }) : http2.connect(`http://127.0.0.1:${port}`);
    try {
      const tag = `${shape}-${event}`;
      let release = (): void => undefined;
      const bothOpen = new Promise<void>((resolve) => (release = resolve));
      const trailers = event === 'trailers';
      const secret = request(session, `/secret/${tag}-s?at=${event}`, 'from-secret-stream', trailers, bothOpen);
      const clean = request(session, `/public/${tag}-p?at=${event}`, 'from-clean-stream', trailers, bothOpen);
      // Both streams' HEADERS and first DATA are on the wire before either ends.
      release();
      const [refused, served] = await Promise.all([secret, clean]);
      expect(refused.status).toBe(403);
      expect(JSON.parse(refused.body)).toMatchObject({ rule: 'confidentiality', destination: 'tcp://127.0.0.1' });
      expect(existsSync(path.join(dir, `out-${tag}-s.txt`))).toBe(false);
      expect(served).toEqual({ status: 200, body: 'wrote from-clean-stream' });
      expect(readFileSync(path.join(dir, `out-${tag}-p.txt`), 'utf8')).toBe('from-clean-stream');
      const server = servers.get(shape);
      expect(server?.stderr).toBe('');
    } finally {
      session.close();
    }
  });

  it('an HTTP/1.1 request on that TLS server (allowHTTP1) gets its own context as on any HTTP/1 server: the secret one is refused, its concurrent twin is not', async () => {
    const port = await portOf('compat-tls');
    let release = (): void => undefined;
    const bothOpen = new Promise<void>((resolve) => (release = resolve));
    const post = (urlPath: string, body: string): Promise<Answer> =>
      new Promise((resolve, reject) => {
        const req = https.request({ host: '127.0.0.1', port, path: urlPath, method: 'POST', ca, agent: false }, (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on('error', reject);
        req.write(body);
        void bothOpen.then(() => req.end());
      });
    const secret = post('/secret/h1-s?at=handler', 'from-secret-request');
    const clean = post('/public/h1-p?at=handler', 'from-clean-request');
    release();
    const [refused, served] = await Promise.all([secret, clean]);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({ rule: 'confidentiality', destination: 'tcp://127.0.0.1' });
    expect(existsSync(path.join(dir, 'out-h1-s.txt'))).toBe(false);
    expect(served).toEqual({ status: 200, body: 'wrote from-clean-request' });
    expect(readFileSync(path.join(dir, 'out-h1-p.txt'), 'utf8')).toBe('from-clean-request');
  });
});
