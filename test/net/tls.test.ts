// TLS: an https server under the preload gets one flow context per request and answers a denied
// response with a 403; a denied https.request or tls.connect opens no connection and fails with
// ERR_PROVENANCE_DENIED; an allowed tls.connect write is a flow to tcp://host:port. Node cannot
// issue an X.509 certificate, so the test uses a committed self-signed one (test only, valid for
// 127.0.0.1 and localhost until 2126), made with `openssl req -x509 -newkey ec ... -days 36500`.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProvenancePropagator } from '../../src/propagation/propagator';
import { acceptProbe } from '../helpers/ports';
import { runNode, stopAll } from '../helpers/spawn';
import { cleanupTempDirs, tempDir } from '../helpers/tmp';
import { fixture, KEY, lastJson, serviceEnv, startService, waitForRecord, writeConfig } from './helpers';

let dir: string;
let key: string;
let cert: string;
let secret: string;
const servers: net.Server[] = [];

/** A loopback TLS server counting the TCP connections it accepts. */
async function listen(server: tls.Server): Promise<{ server: tls.Server; port: number; connections: () => number }> {
  let connections = 0;
  server.on('connection', () => connections++);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as net.AddressInfo).port, connections: () => connections };
}

beforeAll(() => {
  dir = tempDir();
  key = path.join(__dirname, 'fixtures', 'tls', 'key.pem');
  cert = path.join(__dirname, 'fixtures', 'tls', 'cert.pem');
  mkdirSync(path.join(dir, 'data'));
  secret = path.join(dir, 'data', 'secret.txt');
  writeFileSync(secret, 'the secret');
});

afterAll(async () => {
  await stopAll();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  await cleanupTempDirs();
});

describe('https server under the preload', () => {
  let port: number;
  let agent: https.Agent;

  beforeAll(async () => {
    const config = writeConfig(
      dir,
      'server',
      `
service: b
node: n1
resources:
  - match: { path: "data/**" }
    labels: { confidentiality: secret }
trust: { peers: ["127.0.0.1"] }
`,
    );
    ({ port } = await startService(dir, config, { TLS_KEY: key, TLS_CERT: cert }));
    agent = new https.Agent({ keepAlive: true, maxSockets: 4, ca: readFileSync(cert) });
  });

  afterAll(() => agent.destroy());

  const get = (urlPath: string, headers: http.OutgoingHttpHeaders = {}, body?: string): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = https.request(
        { host: '127.0.0.1', port, path: urlPath, method: body === undefined ? 'GET' : 'POST', agent, headers },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  it('each request on keep-alive TLS connections gets its own context, seeded from its signed claim', async () => {
    const propagator = new ProvenancePropagator({ service: 'a', key: KEY, peers: ['127.0.0.1'], maxAgeSeconds: 300 });
    const results = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const baggage = propagator.outgoingBaggage('127.0.0.1', undefined, {
          labels: { confidentiality: 'public', integrity: 'high', tags: [`t${i}`], locations: [] },
          sources: [`file://n1/input/${i}`],
          audience: `127.0.0.1:${port}`,
        });
        const res = await get('/labels', { baggage }, `body-${i}`);
        return {
          i,
          status: res.status,
          ...(JSON.parse(res.body) as { body: string; labels: { tags: string[] }; sources: string[]; context: string }),
        };
      }),
    );
    for (const r of results) {
      expect(r).toMatchObject({ status: 200, context: 'request', body: `body-${r.i}`, labels: { tags: [`t${r.i}`] } });
      expect(r.sources).toEqual([`file://n1/input/${r.i}`, 'service://a']);
    }
  });

  it('a denied response is a 403 problem and the service keeps serving', async () => {
    const denied = await get(`/file?path=${encodeURIComponent(secret)}`);
    expect(denied.status).toBe(403);
    expect(JSON.parse(denied.body)).toMatchObject({ status: 403, rule: 'confidentiality' });
    expect(denied.body).not.toContain('the secret');
    expect((await get('/labels', {}, 'again')).status).toBe(200);
  });
});

describe('TLS clients under the preload', () => {
  let denied: { server: tls.Server; port: number; connections: () => number };
  let allowed: { server: tls.Server; port: number; connections: () => number };
  let received = '';

  beforeAll(async () => {
    const options = { key: readFileSync(key), cert: readFileSync(cert) };
    denied = await listen(https.createServer(options, (_req, res) => res.end('ok')));
    allowed = await listen(
      tls.createServer(options, (socket) => {
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => {
          received += chunk;
          socket.end(`echo:${chunk}`);
        });
      }),
    );
    // Only the allowed port is labelled to take secret data; the other gets the public defaults.
    writeConfig(
      dir,
      'client',
      `
service: a
node: n1
resources:
  - match: { path: "data/**" }
    labels: { confidentiality: secret }
  - match: { host: "127.0.0.1", port: ${allowed.port} }
    labels: { confidentiality: secret }
`,
    );
  });

  const runClient = async (
    via: 'https' | 'tls',
    port: number,
  ): Promise<{ ok: boolean; code?: string; rule?: string; status?: number; text?: string }> => {
    const result = await runNode({
      args: [fixture('tls-client.cjs')],
      preload: 'require',
      cwd: dir,
      env: serviceEnv(dir, path.join(dir, 'client.yaml'), { FILE: secret, CA: cert, VIA: via, TARGET: `https://127.0.0.1:${port}/` }),
    });
    expect(result.code, result.stderr).toBe(0);
    return lastJson(result.stdout);
  };

  it.each(['https', 'tls'] as const)('a denied %s client fails with ERR_PROVENANCE_DENIED and opens no connection', async (via) => {
    const before = denied.connections();
    expect(await runClient(via, denied.port)).toEqual({ ok: false, code: 'ERR_PROVENANCE_DENIED', rule: 'confidentiality' });
    await acceptProbe(denied.server);
    // The probe is the only connection since the client started.
    expect(denied.connections()).toBe(before + 1);
  });

  it('an allowed tls.connect write is a flow to tcp://host:port', async () => {
    expect(await runClient('tls', allowed.port)).toEqual({ ok: true, text: 'echo:the secret' });
    expect(received).toBe('the secret');
    const resource = `tcp://127.0.0.1:${allowed.port}`;
    const write = await waitForRecord(dir, (r) => r.service === 'a' && r.op === 'write' && r.resource === resource);
    expect(write).toMatchObject({ decision: 'allow', labels: { confidentiality: 'secret' } });
    expect(write.sources).toContain(`file://n1${secret}`);
    await waitForRecord(dir, (r) => r.service === 'a' && r.op === 'read' && r.resource === resource);
  });
});
