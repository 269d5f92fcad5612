// Trust boundaries: a verified claim from a peer in trust.peers carries its own labels (the peer's
// `resources` entry, low integrity here, neither lowers nor raises them: README "Trust in a peer:
// two settings"), so its data may reach a high-integrity file; forged, replayed, stale and
// unsigned claims are untrusted (their data cannot); egress to a host outside trust.peers carries
// no provenant member.
import { existsSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProvenancePropagator } from '../../src/propagation/propagator';
import { runNode, stopAll } from '../helpers/spawn';
import { cleanupTempDirs, tempDir } from '../helpers/tmp';
import { fixture, KEY, lastJson, serviceEnv, startService, writeConfig } from './helpers';

let dir: string;
let port: number;

const claim = {
  labels: { confidentiality: 'public', integrity: 'high', tags: [], locations: [] },
  sources: ['file://n1/srv/a/input.json'],
};

function signedBaggage(options: { service?: string; now?: () => number; key?: string; confidentiality?: string } = {}): string {
  const propagator = new ProvenancePropagator({
    service: options.service ?? 'a',
    key: options.key ?? KEY,
    peers: ['127.0.0.1'],
    maxAgeSeconds: 300,
    now: options.now,
  });
  // Addressed to the service under test, as a client dialling it would address it.
  const labels = { ...claim.labels, confidentiality: options.confidentiality ?? claim.labels.confidentiality };
  return propagator.outgoingBaggage('127.0.0.1', 'user=42', { ...claim, labels, audience: `127.0.0.1:${port}` }) as string;
}

function store(file: string, baggage: string | undefined): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: `/store?file=${encodeURIComponent(path.join(dir, 'high', file))}`,
        headers: baggage ? { baggage } : {},
      },
      (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end('payload');
  });
}

beforeAll(async () => {
  dir = tempDir();
  mkdirSync(path.join(dir, 'high'));
  const config = writeConfig(
    dir,
    'b',
    `
service: b
node: n1
resources:
  - match: { path: "high/**" }
    labels: { confidentiality: secret, integrity: high }
  - match: { service: a }
    labels: { confidentiality: public, integrity: low }
trust: { peers: ["127.0.0.1"], maxAgeSeconds: 60 }
`,
  );
  ({ port } = await startService(dir, config));
});

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

describe('incoming claims', () => {
  it("a valid signed claim from a trusted peer may write to a high-integrity file (the peer's own low label does not lower it)", async () => {
    expect(await store('valid.txt', signedBaggage())).toEqual({ status: 200, body: 'stored' });
  });

  it("the peer's own labels are what it may receive: its verified secret data is stored, but the answer to it (public) is refused", async () => {
    const result = await store('secret.txt', signedBaggage({ confidentiality: 'secret' }));
    expect(result.status).toBe(403);
    expect(JSON.parse(result.body)).toMatchObject({ status: 403, rule: 'confidentiality', destination: 'service://a' });
    expect(existsSync(path.join(dir, 'high', 'secret.txt'))).toBe(true);
  });

  it.each([
    [
      'one character of the signature changed',
      (b: string) => b.replace(/(provenant\.sig=.)(.)/, (_m, head: string, c: string) => head + (c === 'A' ? 'B' : 'A')),
    ],
    ['a replayed claim with one label changed', (b: string) => b.replace('provenant.i=high', 'provenant.i=higg')],
    ['no signature', (b: string) => b.replace(/,provenant\.sig=[^,]*/, '')],
    ['signed with another key', () => signedBaggage({ key: 'another-key' })],
    ['stale', () => signedBaggage({ now: () => Date.now() - 3_600_000 })],
    ['no claim at all', () => undefined],
  ])('%s: the data is untrusted and the high-integrity write is denied', async (_name, tamper) => {
    const result = await store('tampered.txt', tamper(signedBaggage()));
    expect(result.status).toBe(500);
    expect(JSON.parse(result.body)).toMatchObject({ code: 'ERR_PROVENANCE_DENIED', rule: 'integrity' });
    expect(existsSync(path.join(dir, 'high', 'tampered.txt'))).toBe(false);
  });

  it('an unreadable claim is treated as the most confidential: the write and the reply to a public caller are denied', async () => {
    const result = await store('malformed.txt', 'provenant.c=%E0%A4%A,provenant.sig=x');
    expect(result.status).toBe(403);
    expect(JSON.parse(result.body)).toMatchObject({ status: 403, rule: 'confidentiality' });
    expect(existsSync(path.join(dir, 'high', 'malformed.txt'))).toBe(false);
  });
});

describe('egress', () => {
  let headers: http.IncomingHttpHeaders[] = [];
  const capture = http.createServer((req, res) => {
    headers.push(req.headers);
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  const trusted = http.createServer((req, res) => {
    headers.push(req.headers);
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  let capturePort: number;
  let trustedPort: number;

  beforeAll(async () => {
    // 127.0.0.2 is loopback too, but not in trust.peers.
    await new Promise<void>((resolve) => capture.listen(0, '127.0.0.2', resolve));
    await new Promise<void>((resolve) => trusted.listen(0, '127.0.0.1', resolve));
    capturePort = (capture.address() as { port: number }).port;
    trustedPort = (trusted.address() as { port: number }).port;
  });
  afterAll(() => {
    capture.close();
    trusted.close();
  });

  it.each(['fetch', 'http', 'undici'])('%s to an untrusted host sends no provenant member; user baggage passes', async (via) => {
    const config = writeConfig(dir, 'egress', 'service: a\nnode: n1\nlocation: eu-west-1\ntrust: { peers: ["127.0.0.1"] }\n');
    const run = async (host: string, p: number): Promise<http.IncomingHttpHeaders> => {
      headers = [];
      const result = await runNode({
        args: [fixture('client.cjs')],
        preload: 'require',
        cwd: dir,
        // The app forwards a provenant member it got from somewhere: it must not leave either.
        env: serviceEnv(dir, config, { TARGET: `http://${host}:${p}/`, VIA: via, BAGGAGE: 'user=42,provenant.x=forged' }),
      });
      expect(lastJson(result.stdout), result.stderr).toMatchObject({ ok: true, status: 200 });
      return headers[0];
    };
    const untrusted = await run('127.0.0.2', capturePort);
    expect(untrusted.baggage).toBe('user=42');
    expect(untrusted.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    const peer = await run('127.0.0.1', trustedPort);
    expect(peer.baggage).toMatch(/^user=42,provenant\.v=1,.*provenant\.sig=/);
    expect(peer.baggage).not.toContain('provenant.x=forged');
  });
});
