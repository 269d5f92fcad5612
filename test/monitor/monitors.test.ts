// Monitors in a real process under the preload: verify-then-trust refuses before the handler
// runs (its side effect never happens), trust-then-verify lets the action run and raises a
// violation to subscribe(), attest() facts are signed, journaled and served by the evidence
// endpoint; over HTTP/2 too, where evidence also travels with requests and responses.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEvidence, encodeEvidence, EVIDENCE_HEADER } from '../../src/monitor/evidence.js';
import { makeFact } from '../../src/monitor/facts.js';
import { ServiceIdentity } from '../../src/propagation/identity.js';
import { journalRecords } from '../helpers/journal.js';
import { repoRoot, runNode, startNode, stopAll, type NodeProcess } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

const dir = tempDir();
const state = join(dir, 'state');
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
writeFileSync(join(dir, 'workshop.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
writeFileSync(
  join(dir, 'provenant.yaml'),
  `service: workshop
node: n1
trust:
  peers: ["127.0.0.1"]
  identities: [{ service: workshop, publicKey: workshop.pub }]
monitors:
  - id: ship-needs-made
    on: { method: POST, route: "/things/:T/ship" }
    rule: "permit ship(T) :- attested(workshop, made(T))."
  - id: audit-needs-made
    on: { method: POST, route: "/things/:T/audit" }
    mode: trust-then-verify
    rule: "permit audit(T) :- attested(workshop, made(T))."
`,
);
let app: NodeProcess;
let port: number;
let h2port: number;
/** A trusted HTTP/2 peer of the workshop (not instrumented): keeps each request's evidence header, answers /first with a fact of its own. */
const peerRequests: { path: string; evidence: string | undefined }[] = [];
const peer = http2.createServer();
peer.on('stream', (stream, headers) => {
  const path = String(headers[':path']);
  const evidence = headers[EVIDENCE_HEADER];
  peerRequests.push({ path, evidence: Array.isArray(evidence) ? evidence[0] : evidence });
  const returned = path.startsWith('/first/')
    ? encodeEvidence([makeFact('workshop', 'made', [`${path.split('/')[2]}-returned`], Date.now(), workshopKey)])
    : undefined;
  stream.respond({ ':status': 200, ...(returned === undefined ? {} : { [EVIDENCE_HEADER]: returned }) });
  stream.end('ok');
});
const workshopKey = new ServiceIdentity({ service: 'workshop', identityKey: keyPem, trusted: [] });

beforeAll(async () => {
  await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
  app = startNode({
    args: [join(__dirname, 'fixtures', 'workshop.cjs')],
    cwd: dir,
    preload: 'require',
    env: {
      PROVENANT_CONFIG: join(dir, 'provenant.yaml'),
      PROVENANT_STATE_DIR: state,
      PROVENANT_IDENTITY_KEY: keyPem,
      PROVENANT_PACKAGE: repoRoot,
      PEER: `http://127.0.0.1:${(peer.address() as AddressInfo).port}`,
    },
  });
  port = Number((await app.waitForLine(/^listening (\d+)$/))[1]);
  h2port = Number((await app.waitForLine(/^h2 listening (\d+)$/))[1]);
});
afterAll(async () => {
  await stopAll();
  await new Promise((resolve) => peer.close(resolve));
  await cleanupTempDirs();
});

const post = (path: string, headers: Record<string, string> = {}) => fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers });
const shipped = () => (existsSync(join(dir, 'shipped.log')) ? readFileSync(join(dir, 'shipped.log'), 'utf8') : '');

describe('verify-then-trust', () => {
  it('answers 403 problem+json naming the missing premise, and the handler never runs', async () => {
    const res = await post('/things/t1/ship');
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({ monitor: 'ship-needs-made', action: 'ship(t1)', missing: 'attested(workshop, made(t1))' });
    expect(shipped()).toBe('');
  });

  it('runs the handler once the premise is attested', async () => {
    expect((await post('/things/t1/make')).status).toBe(200);
    const res = await post('/things/t1/ship');
    expect(await res.text()).toBe('ship t1');
    expect(shipped()).toBe('t1\n');
  });

  it('does not accept facts signed by another key, or evidence for another statement', async () => {
    const impostor = new ServiceIdentity({
      service: 'workshop',
      identityKey: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      trusted: [],
    });
    const forged = Buffer.from(
      JSON.stringify([
        { p: 'workshop', n: 'made', a: ['t2'], t: Date.now(), r: '00', s: { alg: 'ed25519', k: 'x', v: impostor.sign('anything')?.value } },
      ]),
    ).toString('base64url');
    const res = await post('/things/t2/ship', { [EVIDENCE_HEADER]: forged });
    expect(res.status).toBe(403);
    expect(decodeEvidence(forged, impostor, Date.now()).facts).toEqual([]);
    const unsigned = makeFact('workshop', 'made', ['t2'], Date.now(), undefined);
    expect(unsigned.signature).toBeUndefined();
    expect(shipped()).toBe('t1\n');
  });
});

describe('trust-then-verify', () => {
  it('lets the action run and raises the violation to subscribe() and the journal', async () => {
    expect(await (await post('/things/t3/audit')).text()).toBe('audit t3');
    const line = await app.waitForLine(/^\{.*"action":"audit\(t3\)".*\}$/);
    expect(JSON.parse(line[0])).toEqual({
      verdict: 'violation',
      rule: 'audit-needs-made',
      action: 'audit(t3)',
      reason: 'audit(t3) is not proven: missing attested(workshop, made(t3))',
    });
  });
});

describe('attest() and the evidence endpoint', () => {
  it('serves the facts this service attested, signed with its identity key', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/.well-known/provenant/facts?name=made`);
    const verifier = new ServiceIdentity({
      service: 'auditor',
      trusted: [{ service: 'workshop', publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString() }],
    });
    const facts = decodeEvidence(await res.text(), verifier, Date.now()).facts;
    expect(facts.map((fact) => [fact.principal, fact.name, fact.args, fact.signature?.alg])).toEqual([
      ['workshop', 'made', ['t1'], 'ed25519'],
    ]);
  });

  it('serves the same facts over HTTP/2', async () => {
    const answer = await h2('GET', '/.well-known/provenant/facts?name=made');
    const facts = decodeEvidence(answer.body, workshopKey, Date.now()).facts;
    expect(facts.map((fact) => fact.args)).toEqual([['t1']]);
  });
});

/** One HTTP/2 request to the workshop (an uninstrumented client): status, content type, evidence header and body. */
function h2(
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; type: string; evidence: string; body: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${h2port}`);
    session.on('error', reject);
    const stream = session.request({ ':method': method, ':path': path, ...headers });
    let body = '';
    let head: http2.IncomingHttpHeaders = {};
    stream.setEncoding('utf8');
    stream.on('response', (response) => (head = response));
    stream.on('data', (chunk: string) => (body += chunk));
    stream.on('end', () => {
      session.close();
      resolve({ status: Number(head[':status']), type: String(head['content-type']), evidence: String(head[EVIDENCE_HEADER] ?? ''), body });
    });
    stream.on('error', reject);
    stream.end();
  });
}

describe('monitors over HTTP/2', () => {
  it('verify-then-trust refuses an HTTP/2 stream before the handler runs (403 problem+json), and admits it once the premise holds', async () => {
    const refused = await h2('POST', '/things/h1/ship');
    expect(refused).toMatchObject({ status: 403, type: 'application/problem+json' });
    expect(JSON.parse(refused.body)).toMatchObject({
      monitor: 'ship-needs-made',
      action: 'ship(h1)',
      missing: 'attested(workshop, made(h1))',
    });
    expect(shipped()).not.toContain('h1');
    // The response to `make` carries the fact it attested, as evidence for the caller.
    const made = await h2('POST', '/things/h1/make');
    expect(made.status).toBe(200);
    expect(decodeEvidence(made.evidence, workshopKey, Date.now()).facts.map((fact) => fact.args)).toEqual([['h1']]);
    expect((await h2('POST', '/things/h1/ship')).body).toBe('ship h1');
    expect(shipped()).toContain('h1\n');
  });

  it('a fact arriving as evidence in an HTTP/2 request counts; a forged one does not', async () => {
    const forged = new ServiceIdentity({
      service: 'workshop',
      identityKey: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      trusted: [],
    });
    const carrying = (signer: ServiceIdentity, thing: string) => ({
      [EVIDENCE_HEADER]: encodeEvidence([makeFact('workshop', 'made', [thing], Date.now(), signer)]) ?? '',
    });
    expect((await h2('POST', '/things/h2/ship', carrying(forged, 'h2'))).status).toBe(403);
    expect(shipped()).not.toContain('h2');
    expect((await h2('POST', '/things/h3/ship', carrying(workshopKey, 'h3'))).body).toBe('ship h3');
    expect(shipped()).toContain('h3\n');
  });

  it("an HTTP/2 request to a trusted peer carries the context's evidence, and the evidence its response returns joins the context", async () => {
    expect((await h2('POST', '/things/h4/forward')).body).toBe('forward h4');
    const facts = (path: string) =>
      decodeEvidence(peerRequests.find((request) => request.path === path)?.evidence, workshopKey, Date.now())
        .facts.map((fact) => fact.args[0])
        .sort();
    expect(facts('/first/h4')).toEqual(['h4']);
    expect(facts('/second/h4')).toEqual(['h4', 'h4-returned']);
  });
});

describe('the journal', () => {
  it('journals each fact and each verdict; explain re-derives a verdict and checks the signatures', async () => {
    await app.kill();
    const records = journalRecords(state);
    const attested = records.filter((r) => r.op === 'attest');
    expect(attested.map((r) => r.fact?.args)).toEqual([['t1'], ['h1'], ['h4']]);
    const verdicts = records.filter((r) => r.op === 'monitor').map((r) => [r.rule, r.action, r.decision]);
    expect(verdicts).toEqual([
      ['ship-needs-made', 'ship(t1)', 'deny'],
      ['ship-needs-made', 'ship(t1)', 'allow'],
      ['ship-needs-made', 'ship(t2)', 'deny'],
      ['audit-needs-made', 'audit(t3)', 'violation'],
      ['ship-needs-made', 'ship(h1)', 'deny'],
      ['ship-needs-made', 'ship(h1)', 'allow'],
      ['ship-needs-made', 'ship(h2)', 'deny'],
      ['ship-needs-made', 'ship(h3)', 'allow'],
    ]);
    const permit = records.find((r) => r.op === 'monitor' && r.decision === 'allow') as (typeof records)[number] & { seq: number };
    const segment = join(state, 'journal', readdirSync(join(state, 'journal')).filter((n) => n.endsWith('.jsonl'))[0]);
    const cli = join(repoRoot, 'dist', 'cli', 'main.js');
    const good = await runNode({ args: [cli, 'explain', `${segment}:${permit.seq}`, '--config', join(dir, 'provenant.yaml'), '--json'] });
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({
      recorded: 'permit',
      rederived: 'permit',
      facts: [{ statement: 'attested(workshop, made(t1))', verified: true }],
    });
    // Without the workshop's key the same fact cannot be verified: explain says so and fails.
    const unkeyed = await runNode({ args: [cli, 'explain', `${segment}:${permit.seq}`] });
    expect(unkeyed.code).toBe(1);
    expect(unkeyed.stdout).toContain('✘ attested(workshop, made(t1))');
  });

  it('explain refuses a record whose evidence was altered after the fact', async () => {
    const segment = join(state, 'journal', readdirSync(join(state, 'journal')).filter((n) => n.endsWith('.jsonl'))[0]);
    const permit = journalRecords(state).find((r) => r.op === 'monitor' && r.decision === 'allow') as unknown as { seq: number };
    const tampered = join(dir, 'tampered.jsonl');
    // The fact now says t9 was made: its id and signature no longer match its content.
    const lines = readFileSync(segment, 'utf8').split('\n');
    const at = lines.findIndex((line) => line.startsWith(`{"seq":${permit.seq},`));
    lines[at] = lines[at].replace('"args":["t1"]', '"args":["t9"]');
    writeFileSync(tampered, lines.join('\n'));
    const cli = join(repoRoot, 'dist', 'cli', 'main.js');
    const result = await runNode({
      args: [cli, 'explain', `${tampered}:${permit.seq}`, '--config', join(dir, 'provenant.yaml'), '--json'],
    });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as {
      recorded: string;
      rederived: string;
      facts: { statement: string; verified: boolean; problem: string }[];
    };
    expect(report.facts).toMatchObject([
      { statement: 'attested(workshop, made(t9))', verified: false, problem: 'its id does not match its content' },
    ]);
    // Without a verified fact the permit cannot be re-derived.
    expect([report.recorded, report.rederived]).toEqual(['permit', 'deny']);
  });
});
