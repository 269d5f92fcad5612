// Signed claims over HTTP/2, as over HTTP/1 (README "Across services"): a client process on
// 127.0.0.1 (service a) and an instrumented h2c service b on 127.0.0.2 trust each other; c on
// 127.0.0.3 is a plain h2c listener a does not trust. Labels travel both ways (a's request claim
// seeds b's stream context, b's response claim labels a's context), a claim from an untrusted
// address is not believed and gets no claim of a's, and every denial is proved at the listener.
import { mkdirSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProvenancePropagator } from '../../src/propagation/propagator';
import { runNode, startNode, stopAll } from '../helpers/spawn';
import { cleanupTempDirs, tempDir } from '../helpers/tmp';
import { fixture, journal, KEY, lastJson, serviceEnv, waitForRecord, writeConfig } from './helpers';

const trust = 'trust: { peers: ["127.0.0.1", "127.0.0.2"] }';

// a may send secret data to b; c (127.0.0.3) gets the defaults (public).
const aConfig = `
service: a
node: na
resources:
  - match: { path: "in/**" }
    labels: { confidentiality: confidential, integrity: high, tags: [pii] }
  - match: { host: "127.0.0.2" }
    labels: { confidentiality: secret }
${trust}
`;

// b answers secret data only to a as identified by its verified claim (by address a caller is public).
const bConfig = `
service: b
node: nb
resources:
  - match: { path: "b/secret.txt" }
    labels: { confidentiality: secret, integrity: high }
  - match: { path: "b/public.txt" }
    labels: { confidentiality: public, integrity: high }
  - match: { service: a }
    labels: { confidentiality: secret }
${trust}
`;

const SECRET = 'b-secret-record';
const PUBLIC = 'b-public-note';
const PII = 'a-pii-record';

interface Listener {
  connections: number;
  streams: number;
  received: string;
  baggage: (string | undefined)[];
  port: number;
  close(): Promise<void>;
}

/** A plain h2c server on 127.0.0.3 counting connections, streams and body bytes; it answers with `claim` as its provenant-baggage. */
async function listener(claim: () => string | undefined): Promise<Listener> {
  const server = http2.createServer();
  const state = { connections: 0, streams: 0, received: '', baggage: [] as (string | undefined)[] };
  server.on('connection', () => state.connections++);
  server.on('stream', (stream, headers) => {
    state.streams++;
    state.baggage.push(headers.baggage as string | undefined);
    stream.on('data', (chunk: Buffer) => (state.received += chunk.toString()));
    stream.on('end', () => {
      const value = claim();
      stream.respond(value === undefined ? { ':status': 200 } : { ':status': 200, 'provenant-baggage': value });
      stream.end('c-answer');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.3', resolve));
  return Object.assign(state, {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

let dir: string;
let b: number;
let c: Listener;
// c signs with the shared key, claiming public high-integrity data: a must not believe it (c is not a trusted peer).
const cSigner = new ProvenancePropagator({ service: 'c', key: KEY, peers: ['127.0.0.1'], maxAgeSeconds: 300 });

interface Outcome {
  status?: number;
  body?: string;
  claimed?: boolean;
  error?: { code: string | null; rule: string | null };
  current: { sources: string[]; labels: { confidentiality: string; integrity: string; tags: string[] } };
  then?: { status?: number; body?: string; error?: { code: string | null; rule: string | null } };
}

async function runA(step: Record<string, unknown>): Promise<Outcome> {
  const result = await runNode({
    args: [fixture('h2-client.cjs'), JSON.stringify(step)],
    preload: 'require',
    cwd: dir,
    env: serviceEnv(dir, path.join(dir, 'a.yaml')),
  });
  expect(result.code, result.stderr).toBe(0);
  return lastJson(result.stdout);
}

/** A request straight from the test (no claim, caller 127.0.0.1 by address). */
function plainGet(urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.2:${b}`);
    const stream = session.request({ ':path': urlPath });
    let status = 0;
    let body = '';
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.on('data', (chunk: Buffer) => (body += chunk.toString()));
    stream.on('end', () => session.close(() => resolve({ status, body })));
    stream.on('error', reject);
  });
}

const bFile = (name: string): string => path.join(dir, 'b', `${name}.txt`);
const bUrl = (route: string): string => `http://127.0.0.2:${b}${route}`;

beforeAll(async () => {
  dir = tempDir();
  mkdirSync(path.join(dir, 'in'));
  mkdirSync(path.join(dir, 'b'));
  writeFileSync(path.join(dir, 'in', 'pii.txt'), PII);
  writeFileSync(bFile('secret'), SECRET);
  writeFileSync(bFile('public'), PUBLIC);
  writeConfig(dir, 'a', aConfig);
  const bYaml = writeConfig(dir, 'b', bConfig);
  const service = startNode({
    args: [fixture('h2-service.cjs')],
    preload: 'require',
    cwd: dir,
    env: serviceEnv(dir, bYaml, { HOST: '127.0.0.2' }),
  });
  b = Number((await service.waitForLine(/^listening (\d+)$/))[1]);
  c = await listener(() =>
    cSigner.responseClaim('127.0.0.1', { labels: { confidentiality: 'public', integrity: 'high', tags: [], locations: [] }, sources: [] }),
  );
});

afterAll(async () => {
  await stopAll();
  await c.close();
  await cleanupTempDirs();
});

describe('a → b: the request claim', () => {
  it("a's labels and sources seed b's stream context; b's app sees a's own baggage only; b's read is in a's trace", async () => {
    const pii = path.join(dir, 'in', 'pii.txt');
    const result = await runA({
      url: bUrl('/labels'),
      method: 'POST',
      read: pii,
      body: 'payload',
      baggage: 'app.member=1,provenant.c=public',
    });
    expect(result.status).toBe(200);
    const seen = JSON.parse(result.body ?? '') as Outcome['current'] & { baggage: string | null };
    expect(seen.baggage).toBe('app.member=1');
    expect(seen.labels).toMatchObject({ confidentiality: 'confidential', integrity: 'high', tags: ['pii'] });
    expect(seen.sources).toEqual(expect.arrayContaining([`file://na${pii}`, 'service://a']));
    const read = await waitForRecord(dir, (r) => r.service === 'b' && r.op === 'read' && r.resource === 'service://a');
    const aWrites = journal(dir).filter((r) => r.service === 'a' && r.op === 'write' && r.resource === `http://127.0.0.2:${b}`);
    expect(aWrites.map((r) => r.traceId)).toContain(read.traceId);
  });

  it('data read after request() went out is beyond the claim: the stream fails with claim-exceeded and b receives none of it', async () => {
    const pii = path.join(dir, 'in', 'pii.txt');
    const result = await runA({ url: bUrl('/labels'), method: 'POST', readAfter: pii });
    expect(result.error).toMatchObject({ code: 'ERR_PROVENANCE_DENIED', rule: 'claim-exceeded' });
    expect((await plainGet('/received')).body).not.toContain(PII);
    // The allowed twin: read before the request, the claim covers it and b receives it.
    expect(await runA({ url: bUrl('/labels'), method: 'POST', read: pii, body: PII })).toMatchObject({ status: 200 });
    expect((await plainGet('/received')).body).toContain(PII);
  });
});

describe('b → a: the response claim', () => {
  it("b's secret answer labels a's context (verified claim), so a cannot pass it on to c: no connection, no byte", async () => {
    const result = await runA({
      url: bUrl(`/file?path=${encodeURIComponent(bFile('secret'))}`),
      then: `http://127.0.0.3:${c.port}/upload`,
    });
    expect(result).toMatchObject({ status: 200, body: SECRET, claimed: true });
    expect(result.current.labels).toMatchObject({ confidentiality: 'secret', integrity: 'high' });
    expect(result.current.sources).toContain(`file://nb${bFile('secret')}`);
    expect(result.then?.error).toMatchObject({ code: 'ERR_PROVENANCE_DENIED', rule: 'confidentiality' });
    expect(c).toMatchObject({ connections: 0, streams: 0, received: '' });
    // The allowed twin: b's public answer reaches c.
    const allowed = await runA({
      url: bUrl(`/file?path=${encodeURIComponent(bFile('public'))}`),
      then: `http://127.0.0.3:${c.port}/upload`,
    });
    expect(allowed.current.labels.confidentiality).toBe('public');
    expect(allowed.then).toMatchObject({ status: 200, body: 'c-answer' });
    expect(c.received).toBe(PUBLIC);
  });

  it('a caller without a claim is public by address: the secret is a 403 problem+json, the public file is served', async () => {
    const denied = await plainGet(`/file?path=${encodeURIComponent(bFile('secret'))}`);
    expect(denied.status).toBe(403);
    expect(denied.body).not.toContain(SECRET);
    expect(JSON.parse(denied.body)).toMatchObject({ rule: 'confidentiality', destination: 'tcp://127.0.0.1' });
    expect(await plainGet(`/file?path=${encodeURIComponent(bFile('public'))}`)).toEqual({ status: 200, body: PUBLIC });
  });

  it('data read after the claim left is refused: the stream is reset, a never gets the secret', async () => {
    const result = await runA({ url: bUrl(`/late?path=${encodeURIComponent(bFile('secret'))}`) });
    expect(result.claimed).toBe(true);
    expect(result.error?.code).toBe('ERR_HTTP2_STREAM_ERROR');
    expect(result.body).not.toContain(SECRET);
    // b's app saw no exception: it still serves.
    expect(await plainGet(`/file?path=${encodeURIComponent(bFile('public'))}`)).toEqual({ status: 200, body: PUBLIC });
  });
});

describe('an untrusted peer', () => {
  it("gets none of a's claim (a's own baggage passes), and its signed claim is not believed: its data is untrusted", async () => {
    const before = c.baggage.length;
    const result = await runA({ url: `http://127.0.0.3:${c.port}/ask`, method: 'POST', body: 'question', baggage: 'app.member=2' });
    expect(result).toMatchObject({ status: 200, body: 'c-answer', claimed: true });
    expect(c.baggage.slice(before)).toEqual(['app.member=2']);
    expect(result.current.labels.integrity).toBe('untrusted');
    expect(result.current.sources).toContain(`http://127.0.0.3:${c.port}`);
  });
});
