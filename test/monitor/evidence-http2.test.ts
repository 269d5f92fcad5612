// fetchEvidence asks attesters that serve only HTTP/2: over TLS (ALPN settles on h2; an HTTP/1.1-only
// one still answers over HTTP/1.1) and in cleartext (`evidenceProtocol: h2c`). What they answer is
// verified as before: a fact the attester does not hold leaves the premise missing (403, the
// handler never runs), and an attester nobody answers for refuses too (fail closed).
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo, Server } from 'node:net';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeEvidence, EVIDENCE_PATH } from '../../src/monitor/evidence.js';
import { makeFact } from '../../src/monitor/facts.js';
import { ServiceIdentity } from '../../src/propagation/identity.js';
import { repoRoot, startNode, stopAll, type NodeProcess } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

const tlsDir = join(__dirname, '..', 'net', 'fixtures', 'tls');
const cert = readFileSync(join(tlsDir, 'cert.pem'));
const key = readFileSync(join(tlsDir, 'key.pem'));
const dir = tempDir();
const attesterKey = generateKeyPairSync('ed25519');
const ownKey = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
writeFileSync(join(dir, 'attester.pub'), attesterKey.publicKey.export({ type: 'spki', format: 'pem' }));
const BOOKED = 'b1';

/** The evidence endpoint's answer for `path`: booked(b1) signed by the principal asked about, nothing else. */
function evidenceFor(path: string): { status: number; body: string } {
  const url = new URL(path, 'http://x');
  if (url.pathname !== EVIDENCE_PATH) return { status: 404, body: '' };
  const principal = url.searchParams.get('principal') ?? '';
  const signer = new ServiceIdentity({
    service: principal,
    identityKey: attesterKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    trusted: [],
  });
  return { status: 200, body: encodeEvidence([makeFact(principal, 'booked', [BOOKED], Date.now(), signer)]) ?? '' };
}

interface Attester {
  readonly server: Server;
  /** The HTTP versions of the requests it answered. */
  readonly versions: string[];
}

function h2Attester(server: http2.Http2Server | http2.Http2SecureServer): Attester {
  const versions: string[] = [];
  server.on('stream', (stream, headers) => {
    versions.push('2');
    const { status, body } = evidenceFor(String(headers[':path']));
    stream.respond({ ':status': status });
    stream.end(body);
  });
  return { server, versions };
}

function http1Attester(): Attester {
  const versions: string[] = [];
  const server = https.createServer({ key, cert }, (req, res) => {
    versions.push(req.httpVersion);
    const { status, body } = evidenceFor(req.url ?? '/');
    res.writeHead(status);
    res.end(body);
  });
  return { server, versions };
}

const attesters = {
  tls: h2Attester(http2.createSecureServer({ key, cert })),
  h2c: h2Attester(http2.createServer()),
  tls1: http1Attester(),
};
const port = (server: Server): number => (server.address() as AddressInfo).port;
let downPort: number;
let app: NodeProcess;
let appPort: number;

beforeAll(async () => {
  for (const { server } of Object.values(attesters)) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // A port nothing listens on any more: the attester is unreachable.
  const closed = net.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  downPort = port(closed);
  await new Promise((resolve) => closed.close(resolve));
  const identity = (service: string, evidence: string, extra = ''): string =>
    `    - { service: ${service}, publicKey: attester.pub, evidence: "${evidence}"${extra} }`;
  const monitor = (kind: string): string[] => [
    `  - id: ${kind}-needs-booking`,
    `    on: { method: POST, route: "/${kind}/:T/ship" }`,
    '    fetchEvidence: true',
    `    rule: "permit ship(T) :- attested(${kind}, booked(T))."`,
  ];
  writeFileSync(
    join(dir, 'provenant.yaml'),
    [
      'service: workshop',
      'node: n1',
      'trust:',
      '  identities:',
      identity('tls', `https://127.0.0.1:${port(attesters.tls.server)}`),
      identity('h2c', `http://127.0.0.1:${port(attesters.h2c.server)}`, ', evidenceProtocol: h2c'),
      identity('tls1', `https://127.0.0.1:${port(attesters.tls1.server)}`),
      identity('down', `https://127.0.0.1:${downPort}`),
      'monitors:',
      ...['tls', 'h2c', 'tls1', 'down'].flatMap(monitor),
      '',
    ].join('\n'),
  );
  app = startNode({
    args: [join(__dirname, 'fixtures', 'workshop.cjs')],
    cwd: dir,
    preload: 'require',
    env: {
      PROVENANT_CONFIG: join(dir, 'provenant.yaml'),
      PROVENANT_STATE_DIR: join(dir, 'state'),
      PROVENANT_IDENTITY_KEY: ownKey,
      PROVENANT_PACKAGE: repoRoot,
      NODE_EXTRA_CA_CERTS: join(tlsDir, 'cert.pem'),
    },
  });
  appPort = Number((await app.waitForLine(/^listening (\d+)$/))[1]);
});

afterAll(async () => {
  await stopAll();
  for (const { server } of Object.values(attesters)) await new Promise((resolve) => server.close(resolve));
  await cleanupTempDirs();
});

async function ship(path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${appPort}${path}`, { method: 'POST' });
  return { status: res.status, body: await res.text() };
}

const shipped = (): string => (existsSync(join(dir, 'shipped.log')) ? readFileSync(join(dir, 'shipped.log'), 'utf8') : '');

describe('fetchEvidence from attesters that serve only HTTP/2', () => {
  it.each([
    ['tls', '2'],
    ['h2c', '2'],
    ['tls1', '1.1'],
  ] as const)('%s: a fact the attester holds admits the request; one it does not hold is refused', async (kind, version) => {
    const refused = await ship(`/${kind}/nobooking/ship`);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({ monitor: `${kind}-needs-booking`, missing: `attested(${kind}, booked(nobooking))` });
    expect(shipped()).not.toContain('nobooking');
    // The attester was asked, over the protocol it serves.
    expect(attesters[kind].versions).toEqual([version]);
    expect(await ship(`/${kind}/${BOOKED}/ship`)).toEqual({ status: 200, body: `ship ${BOOKED}` });
    expect(shipped()).toContain(`${BOOKED}\n`);
  });

  it('an unreachable attester leaves the premise missing: refused, the handler never runs', async () => {
    const refused = await ship(`/down/${BOOKED}x/ship`);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({ monitor: 'down-needs-booking', missing: `attested(down, booked(${BOOKED}x))` });
    expect(shipped()).not.toContain(`${BOOKED}x`);
    expect(app.child.exitCode).toBeNull();
  });
});
