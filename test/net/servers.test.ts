// Servers: one flow context per request even with 1,000 concurrent requests on keep-alive
// connections; express, fastify and plain handlers; a denied response is a 403 problem+json
// (or a destroyed socket once headers are out) and the app keeps serving.
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProvenancePropagator } from '../../src/propagation/propagator';
import { startNode, stopAll } from '../helpers/spawn';
import { cleanupTempDirs, tempDir } from '../helpers/tmp';
import { fixture, KEY, serviceEnv, startService, writeConfig } from './helpers';

let dir: string;

beforeAll(() => {
  dir = tempDir();
});

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

function get(
  port: number,
  urlPath: string,
  agent?: http.Agent,
  headers: http.OutgoingHttpHeaders = {},
  body?: string,
): Promise<{ status: number; body: string; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: urlPath, method: body === undefined ? 'GET' : 'POST', agent, headers },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, type: res.headers['content-type'] }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('request contexts', () => {
  it('1,000 concurrent requests with different labels on keep-alive connections: no label leaks', async () => {
    const config = writeConfig(dir, 'labels', 'service: b\nnode: n1\ntrust: { peers: ["127.0.0.1"] }\n');
    const { port } = await startService(dir, config);
    const propagator = new ProvenancePropagator({ service: 'a', key: KEY, peers: ['127.0.0.1'], maxAgeSeconds: 300 });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const results = await Promise.all(
      Array.from({ length: 1000 }, async (_, i) => {
        const baggage = propagator.outgoingBaggage('127.0.0.1', undefined, {
          labels: { confidentiality: 'public', integrity: 'high', tags: [`t${i}`], locations: [] },
          sources: [`file://n1/input/${i}`],
          audience: `127.0.0.1:${port}`,
        });
        const res = await get(port, '/labels', agent, { baggage }, `body-${i}`);
        return {
          i,
          status: res.status,
          ...(JSON.parse(res.body) as { body: string; labels: { tags: string[] }; sources: string[]; context: string }),
        };
      }),
    );
    agent.destroy();
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(r.context).toBe('request');
      expect(r.body).toBe(`body-${r.i}`);
      expect(r.labels.tags).toEqual([`t${r.i}`]);
      expect(r.sources).toEqual([`file://n1/input/${r.i}`, 'service://a']);
    }
  });
});

describe('frameworks and denied responses', () => {
  let ports: Record<'express' | 'fastify' | 'plain', number>;

  beforeAll(async () => {
    const secret = path.join(dir, 'secret.txt');
    writeFileSync(secret, 'the-secret');
    const config = writeConfig(
      dir,
      'frameworks',
      `service: web\nnode: n1\nresources:\n  - match: { path: "${secret}" }\n    labels: { confidentiality: secret }\n`,
    );
    const proc = startNode({
      args: [fixture('frameworks.cjs')],
      preload: 'require',
      cwd: dir,
      env: serviceEnv(dir, config, { SECRET_FILE: secret }),
    });
    const match = await proc.waitForLine(/^ports (.*)$/);
    ports = JSON.parse(match[1]) as typeof ports;
  });

  it.each(['express', 'fastify', 'plain'] as const)('%s: each request runs in a request context', async (name) => {
    const res = await get(ports[name], '/public');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ context: 'request' });
  });

  it.each(['express', 'fastify', 'plain'] as const)(
    '%s: a secret to a public caller is a 403 problem, and the app stays up',
    async (name) => {
      const res = await get(ports[name], '/secret');
      expect(res.status).toBe(403);
      expect(res.type).toBe('application/problem+json');
      expect(res.body).not.toContain('the-secret');
      expect(JSON.parse(res.body)).toMatchObject({ status: 403, rule: 'confidentiality', reason: expect.any(String) });
      expect((await get(ports[name], '/public')).status).toBe(200);
    },
  );

  it('once headers are out, a denied write destroys the socket without sending the secret', async () => {
    const received = await new Promise<{ text: string; outcome: string; complete: boolean }>((resolve) => {
      let text = '';
      http
        .get({ host: '127.0.0.1', port: ports.plain, path: '/stream' }, (res) => {
          res.setEncoding('utf8');
          res.on('data', (chunk) => (text += chunk));
          res.on('error', (error) =>
            resolve({ text, outcome: (error as NodeJS.ErrnoException).code ?? error.message, complete: res.complete }),
          );
          res.on('end', () => resolve({ text, outcome: 'end', complete: res.complete }));
        })
        .on('error', (error) => resolve({ text, outcome: `request ${error.message}`, complete: false }));
    });
    // The chunked body never ends: the client sees the connection reset mid-response.
    expect(received).toEqual({ text: 'start\n', outcome: 'ECONNRESET', complete: false });
    expect((await get(ports.plain, '/public')).status).toBe(200);
  });
});
