// Trust in a peer's signed claims and the labels a peer requires as a destination are two settings
// (README "Trust in a peer"). Three services on three loopback addresses, a (127.0.0.1) → b
// (127.0.0.2) → c (127.0.0.3): a verified claim's labels cross both hops unchanged (neither lowered
// nor raised by the config's labels for the sender), while the config's labels for a peer decide
// what it may receive and what its unclaimed data carries.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProvenancePropagator } from '../../src/propagation/propagator';
import { runNode, stopAll } from '../helpers/spawn';
import { cleanupTempDirs, tempDir } from '../helpers/tmp';
import { fixture, KEY, lastJson, serviceEnv, startService, waitForRecord, writeConfig } from './helpers';

let dir: string;
let a: number;
let b: number;
let c: number;

const trust = 'trust: { peers: ["127.0.0.*"] }';

// a labels its caller `client` secret (it may receive secret answers) while the client claims public data.
const aConfig = `
service: a
node: na
resources:
  - match: { path: "in/high.txt" }
    labels: { confidentiality: internal, integrity: high }
  - match: { path: "in/low.txt" }
    labels: { confidentiality: internal, integrity: low }
  - match: { path: "in/secret.txt" }
    labels: { confidentiality: secret, integrity: high }
  - match: { service: client }
    labels: { confidentiality: secret }
  - match: { host: "127.0.0.2" }
    labels: { confidentiality: secret }
${trust}
`;

// b labels a `secret, low`: as a destination a may receive secret, and unclaimed data from it would
// be secret; a's verified claims keep their own labels. Unclaimed data from 127.0.0.1 is secret.
const bConfig = `
service: b
node: nb
resources:
  - match: { service: a }
    labels: { confidentiality: secret, integrity: low }
  - match: { host: "127.0.0.1" }
    labels: { confidentiality: secret }
  - match: { host: "127.0.0.3" }
    labels: { confidentiality: internal }
${trust}
`;

// c labels b a high-integrity destination: answering b needs high-integrity data.
const cConfig = `
service: c
node: nc
resources:
  - match: { path: "store/**" }
    labels: { confidentiality: internal, integrity: high }
  - match: { service: b }
    labels: { confidentiality: internal, integrity: high }
${trust}
`;

const client = new ProvenancePropagator({ service: 'client', key: KEY, peers: ['127.0.0.1'], maxAgeSeconds: 300 });

function send(
  host: string,
  port: number,
  url: string,
  headers: http.OutgoingHttpHeaders,
  body = '',
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method: url === '/requests' ? 'GET' : 'POST', path: url, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The client asks a to send one of its files to b, which forwards it to c's /store. */
function relay(file: string, target: string): Promise<{ status: number; body: string }> {
  const store = `http://127.0.0.3:${c}/store?file=${encodeURIComponent(target)}`;
  const forward = `http://127.0.0.2:${b}/forward?to=${encodeURIComponent(store)}`;
  const url = `/relay?path=${encodeURIComponent(path.join(dir, 'in', file))}&to=${encodeURIComponent(forward)}`;
  // A signed claim of public, high-integrity data: the client's own (empty) body does not lower a's data.
  const baggage = client.outgoingBaggage('127.0.0.1', undefined, {
    labels: { confidentiality: 'public', integrity: 'high', tags: [], locations: [] },
    sources: [],
    audience: `127.0.0.1:${a}`,
  }) as string;
  return send('127.0.0.1', a, url, { baggage });
}

const requestsAtC = async (): Promise<number> => Number((await send('127.0.0.3', c, '/requests', {})).body);

beforeAll(async () => {
  dir = tempDir();
  mkdirSync(path.join(dir, 'in'));
  mkdirSync(path.join(dir, 'store'));
  for (const name of ['high', 'low', 'secret']) writeFileSync(path.join(dir, 'in', `${name}.txt`), `${name} data`);
  const configs = { a: writeConfig(dir, 'a', aConfig), b: writeConfig(dir, 'b', bConfig), c: writeConfig(dir, 'c', cConfig) };
  [{ port: a }, { port: b }, { port: c }] = await Promise.all([
    startService(dir, configs.a, { HOST: '127.0.0.1' }),
    startService(dir, configs.b, { HOST: '127.0.0.2' }),
    startService(dir, configs.c, { HOST: '127.0.0.3' }),
  ]);
});

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

describe('a verified claim carries its own labels across two hops', () => {
  it('high-integrity data from a reaches c high: b stores it at c, and c may answer its high-integrity destination b', async () => {
    const target = path.join(dir, 'store', 'high.txt');
    expect(await relay('high.txt', target)).toEqual({ status: 200, body: 'stored' });
    expect(readFileSync(target, 'utf8')).toBe('high data');
    // b's config labels a secret: had it raised the claim, b could not have sent it to c (internal).
    const atB = await waitForRecord(dir, (r) => r.service === 'b' && r.op === 'read' && r.resource === 'service://a');
    expect(atB.labels).toMatchObject({ confidentiality: 'internal', integrity: 'high' });
  });

  it('low-integrity data stays low: c refuses to store it, and nothing is written', async () => {
    const target = path.join(dir, 'store', 'low.txt');
    const result = await relay('low.txt', target);
    expect(result.status).toBe(403);
    expect(existsSync(target)).toBe(false);
    const denied = await waitForRecord(dir, (r) => r.service === 'c' && r.decision === 'deny' && r.resource.endsWith('/store/low.txt'));
    expect(denied.rule).toBe('integrity');
  });
});

describe("a peer's configured labels are what it may receive and what its unclaimed data carries", () => {
  it('secret data from a (verified) may go to b but not from b to c, labelled internal: c receives nothing', async () => {
    const before = await requestsAtC();
    const target = path.join(dir, 'store', 'secret.txt');
    const result = await relay('secret.txt', target);
    expect(result.status).toBe(500);
    expect(JSON.parse(result.body)).toMatchObject({ code: 'ERR_PROVENANCE_DENIED', rule: 'confidentiality' });
    expect(existsSync(target)).toBe(false);
    expect(await requestsAtC()).toBe(before + 1);
  });

  it.each([
    ['no claim', (): http.OutgoingHttpHeaders => ({})],
    [
      'a claim signed with another key',
      (): http.OutgoingHttpHeaders => ({
        baggage: new ProvenancePropagator({ service: 'a', key: 'another-key', peers: ['127.0.0.2'], maxAgeSeconds: 300 }).outgoingBaggage(
          '127.0.0.2',
          undefined,
          { labels: { confidentiality: 'public', integrity: 'high', tags: [], locations: [] }, sources: [], audience: `127.0.0.2:${b}` },
        ),
      }),
    ],
  ])('%s from 127.0.0.1 carries the secret labels b configures for it: b sends nothing to c', async (_name, headers) => {
    const before = await requestsAtC();
    const target = path.join(dir, 'store', 'unclaimed.txt');
    const store = `http://127.0.0.3:${c}/store?file=${encodeURIComponent(target)}`;
    const result = await send('127.0.0.2', b, `/forward?to=${encodeURIComponent(store)}`, headers(), 'payload');
    expect(result.status).toBe(500);
    expect(JSON.parse(result.body)).toMatchObject({ code: 'ERR_PROVENANCE_DENIED', rule: 'confidentiality' });
    expect(existsSync(target)).toBe(false);
    expect(await requestsAtC()).toBe(before + 1);
  });
});

describe("through the app's own undici Client", () => {
  it("the request carries the client's signed claim and the response's claim labels the client's context", async () => {
    const config = writeConfig(dir, 'client', `service: client\nnode: nclient\n${trust}\n`);
    const secretFile = path.join(dir, 'in', 'secret.txt');
    const result = await runNode({
      args: [fixture('client.cjs')],
      preload: 'require',
      cwd: dir,
      env: serviceEnv(dir, config, { TARGET: `http://127.0.0.1:${a}/file?path=${encodeURIComponent(secretFile)}`, VIA: 'undici' }),
    });
    // a answers secret data only to `client` as identified by its verified claim (by address it is public).
    const outcome = lastJson<{ status: number; text: string; current: { labels: { confidentiality: string }; sources: string[] } }>(
      result.stdout,
    );
    expect(outcome, result.stderr).toMatchObject({ status: 200, text: 'secret data' });
    expect(outcome.current.labels.confidentiality).toBe('secret');
    expect(outcome.current.sources).toContain(`file://na${secretFile}`);
  });
});

describe('baggage with Expect: 100-continue and a baggage header the app set as an array', () => {
  it.each(['object', 'raw', 'pairs'])(
    'headers as %s: one baggage header reaches the app (its own members once, no provenant member), and the claim still verifies',
    async (shape) => {
      const config = writeConfig(
        dir,
        'expect-client',
        `service: client\nnode: nclient\nresources:\n  - match: { path: "in/high.txt" }\n    labels: { confidentiality: internal, integrity: high }\n  - match: { host: "127.0.0.1" }\n    labels: { confidentiality: secret }\n${trust}\n`,
      );
      const file = path.join(dir, 'in', 'high.txt');
      const result = await runNode({
        args: [fixture('expect-client.cjs')],
        preload: 'require',
        cwd: dir,
        env: serviceEnv(dir, config, { TARGET: `http://127.0.0.1:${a}/labels`, FILE: file, HEADERS: shape }),
      });
      const answer = lastJson<{ status: number; body: string; baggage: string; labels: object; sources: string[] }>(result.stdout);
      expect(answer, result.stderr).toMatchObject({ status: 200, body: 'high data', baggage: 'user=42,team=blue' });
      // Verified: a's context carries the client's claim (its file, internal and high), not untrusted data.
      expect(answer.labels).toMatchObject({ confidentiality: 'internal', integrity: 'high' });
      expect(answer.sources).toContain(`file://nclient${file}`);
    },
  );
});
