// A signed claim covers everything the body it announces carries (issue 10, bug 1). Three
// processes: a caller whose rule forbids pii under public/, a service that reads a pii file
// before or after its headers (and their claim) are out, and the pii file. Whatever the order,
// the caller never ends up with pii data labelled lower than it is: either the claim still
// covers it (it is rewritten while the header bytes have not left), or the body is cut and never
// looks complete. The same holds for request bodies, over http.request and fetch.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNode, startNode, stopAll } from '../helpers/spawn';
import { cleanupTempDirs, tempDir } from '../helpers/tmp';
import { fixture, lastJson, serviceEnv, writeConfig } from './helpers';

const PII = '{"patient":"Ada Lovelace"}';

let dir: string;
let piiFile: string;
let b: number;

const config = (service: string): string => `service: ${service}
node: n1
resources:
  - match: { path: "data/**" }
    labels: { tags: [pii] }
rules:
  - id: pii-not-public
    deny: { data: { tags: [pii] }, destination: { path: "public/**" } }
trust: { peers: ["127.0.0.1"] }
`;

interface CallerResult {
  ok: boolean;
  stage?: string;
  status?: number;
  text?: string;
  stored?: boolean;
  code?: string | null;
  rule?: string | null;
  causeCode?: string | null;
  causeRule?: string | null;
}

beforeAll(async () => {
  dir = tempDir();
  for (const folder of ['data', 'public', 'private']) mkdirSync(path.join(dir, folder));
  piiFile = path.join(dir, 'data', 'patient.json');
  writeFileSync(piiFile, PII);
  writeConfig(dir, 'a', config('a'));
  const proc = startNode({
    args: [fixture('late-labels.cjs')],
    preload: 'require',
    cwd: dir,
    env: serviceEnv(dir, writeConfig(dir, 'b', config('b')), { PII_FILE: piiFile }),
  });
  b = Number((await proc.waitForLine(/^listening (\d+)$/))[1]);
});

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

async function caller(env: Record<string, string>): Promise<CallerResult> {
  const result = await runNode({
    args: [fixture('caller.cjs')],
    preload: 'require',
    cwd: dir,
    env: serviceEnv(dir, path.join(dir, 'a.yaml'), { PII_FILE: piiFile, ...env }),
  });
  expect(result.code, result.stderr).toBe(0);
  return lastJson(result.stdout);
}

const get = (via: string, route: string, out: string): Promise<CallerResult> =>
  caller({ MODE: 'get', VIA: via, TARGET: `http://127.0.0.1:${b}/${route}`, OUT: out });

const post = (via: string, late: boolean, out: string): Promise<CallerResult> =>
  caller({ MODE: 'post', VIA: via, LATE: late ? '1' : '0', TARGET: `http://127.0.0.1:${b}/store?file=${encodeURIComponent(out)}` });

describe.each(['fetch', 'http'])('responses to a caller over %s', (via) => {
  it('headers written before the pii read: the claim leaves with the body and names pii, so the caller refuses to store it in public/', async () => {
    const out = path.join(dir, 'public', `${via}-head-first.txt`);
    const result = await get(via, 'head-first', out);
    expect(result).toMatchObject({ ok: false, stage: 'store', code: 'ERR_PROVENANCE_DENIED', rule: 'pii-not-public' });
    expect(existsSync(out)).toBe(false);
  });

  it.each(['flushed', 'streamed'])(
    '%s: the claim was already out when pii was read: the response is cut, never a complete body',
    async (route) => {
      const out = path.join(dir, 'public', `${via}-${route}.txt`);
      const result = await get(via, route, out);
      expect(result.ok).toBe(false);
      expect(result.stage).not.toBe('store');
      expect(existsSync(out)).toBe(false);
      // The service keeps serving.
      expect((await get(via, 'read-first', path.join(dir, 'private', `${via}-${route}-after.txt`))).ok).toBe(true);
    },
  );

  it('pii read after the last body byte left (end() sends no more): the body is complete and needs no pii claim', async () => {
    const out = path.join(dir, 'public', `${via}-read-unsent.txt`);
    expect(await get(via, 'read-unsent', out)).toMatchObject({ ok: true, status: 200, text: 'start\n', stored: true });
    expect(readFileSync(out, 'utf8')).toBe('start\n');
  });

  it('pii read before the headers (the claim covers the body from the start): delivered whole and labelled', async () => {
    const denied = await get(via, 'read-first', path.join(dir, 'public', `${via}-read-first.txt`));
    expect(denied).toMatchObject({ ok: false, stage: 'store', rule: 'pii-not-public' });
    const privateOut = path.join(dir, 'private', `${via}-read-first.txt`);
    expect(await get(via, 'read-first', privateOut)).toMatchObject({ ok: true, status: 200, text: PII, stored: true });
    expect(readFileSync(privateOut, 'utf8')).toBe(PII);
  });
});

it('flushHeaders() without writeHead (Node calls writeHead for it) sends the claim with the headers', async () => {
  // The test process connects from 127.0.0.1, a trusted peer, so it gets the claim as is.
  const { claim, body } = await new Promise<{ claim: string | undefined; body: string }>((resolve, reject) => {
    http
      .get(`http://127.0.0.1:${b}/flush-first`, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ claim: res.headers['provenant-baggage'] as string | undefined, body: text }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
  expect(body).toBe(PII);
  expect(claim?.split(',')).toContain('provenant.t=pii');
});

describe.each(['fetch', 'http'])('request bodies sent over %s', (via) => {
  it('pii read after the headers (and claim) went out: the request fails with ERR_PROVENANCE_DENIED and nothing is stored', async () => {
    const out = path.join(dir, 'public', `${via}-late-body.txt`);
    const result = await post(via, true, out);
    expect(result.ok).toBe(false);
    const { code, rule } = via === 'fetch' ? { code: result.causeCode, rule: result.causeRule } : result;
    expect({ code, rule }).toEqual({ code: 'ERR_PROVENANCE_DENIED', rule: 'claim-exceeded' });
    // The service never saw a complete body (it answers only after storing), so it never stores.
    expect(existsSync(out)).toBe(false);
  });

  it('pii read before the request (the claim covers the body): the service refuses public/ and stores in private/', async () => {
    const publicOut = path.join(dir, 'public', `${via}-early-body.txt`);
    expect(await post(via, false, publicOut)).toMatchObject({ ok: true, status: 500 });
    expect(existsSync(publicOut)).toBe(false);
    const privateOut = path.join(dir, 'private', `${via}-early-body.txt`);
    expect(await post(via, false, privateOut)).toMatchObject({ ok: true, status: 200, text: 'stored' });
    expect(readFileSync(privateOut, 'utf8')).toBe(`start\n${PII}`);
  });
});
