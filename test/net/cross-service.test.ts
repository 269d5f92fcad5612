// A → B → C over fetch and over http.request: C's output file carries A's source two hops away,
// and a PII residency denial stops fetch, http.request and net.connect before any connection.
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptProbe } from '../helpers/ports';
import { runNode, stopAll } from '../helpers/spawn';
import { cleanupTempDirs, tempDir } from '../helpers/tmp';
import { fixture, journal, lastJson, waitForRecord, serviceEnv, startService, writeConfig } from './helpers';

let dir: string;
let b: number;
let c: number;
let usPort: number;
let usConnections = 0;
let usServer: net.Server;

const labelled = (extra: string): string => `
node: n1
location: eu-west-1
resources:
${extra}
  - match: { path: "data/**" }
    labels: { confidentiality: confidential, integrity: high, tags: [pii], location: eu-west-1 }
  - match: { path: "out/**" }
    labels: { confidentiality: secret }
  - match: { service: "*" }
    labels: { confidentiality: secret }
  - match: { host: "127.0.0.1" }
    labels: { confidentiality: secret, location: eu-west-1 }
rules:
  - id: pii-stays-in-eu
    deny: { data: { tags: [pii] }, destination: { location: { notIn: [eu-west-1] } } }
trust: { peers: ["127.0.0.1"] }
`;

beforeAll(async () => {
  dir = tempDir();
  mkdirSync(path.join(dir, 'data'));
  mkdirSync(path.join(dir, 'out'));
  writeFileSync(path.join(dir, 'data', 'patients.json'), '{"name":"Ada"}');
  usServer = net.createServer((socket) => {
    usConnections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => usServer.listen(0, '127.0.0.1', resolve));
  usPort = (usServer.address() as net.AddressInfo).port;
  const us = `  - match: { host: "127.0.0.1", port: ${usPort} }\n    labels: { confidentiality: secret, location: us-east-1 }`;
  writeConfig(dir, 'a', `service: a\n${labelled(us)}`);
  const cConfig = writeConfig(dir, 'c', `service: c\n${labelled(us)}`);
  const bConfig = writeConfig(dir, 'b', `service: b\n${labelled(us)}`);
  ({ port: c } = await startService(dir, cConfig));
  ({ port: b } = await startService(dir, bConfig));
});

afterAll(async () => {
  await stopAll();
  usServer.close();
  await cleanupTempDirs();
});

async function runA(
  target: string,
  via: string,
): Promise<{
  ok: boolean;
  status?: number;
  text?: string;
  code?: string;
  rule?: string;
  causeCode?: string;
  causeRule?: string;
  name?: string;
}> {
  const result = await runNode({
    args: [fixture('client.cjs')],
    preload: 'require',
    cwd: dir,
    env: serviceEnv(dir, path.join(dir, 'a.yaml'), { FILE: path.join(dir, 'data', 'patients.json'), TARGET: target, VIA: via }),
  });
  expect(result.code, result.stderr).toBe(0);
  return lastJson(result.stdout);
}

describe.each(['fetch', 'http'])('A → B → C over %s', (via) => {
  it("C's output file carries A's source two hops away", async () => {
    const out = path.join(dir, 'out', `${via}.json`);
    const target = `http://127.0.0.1:${b}/forward?via=${via}&to=${encodeURIComponent(`http://127.0.0.1:${c}/store?file=${out}`)}`;
    const result = await runA(target, via);
    expect(result).toMatchObject({ ok: true, status: 200, text: 'stored' });
    const source = `file://n1${path.join(dir, 'data', 'patients.json')}`;
    const write = await waitForRecord(dir, (r) => r.op === 'write' && r.resource === `file://n1${out}`);
    expect(write.service).toBe('c');
    expect(write.sources).toEqual(expect.arrayContaining([source, 'service://b']));
    expect(write.labels).toMatchObject({ tags: ['pii'], locations: ['eu-west-1'] });
    // B's read of A's request and C's write are in A's trace.
    const aWrites = journal(dir).filter((r) => r.service === 'a' && r.op === 'write' && r.resource === `http://127.0.0.1:${b}`);
    expect(aWrites.map((r) => r.traceId)).toContain(write.traceId);
  });
});

describe('PII residency denial to a callee outside the EU', () => {
  it.each(['fetch', 'http', 'net'])('%s fails with ERR_PROVENANCE_DENIED and opens no connection', async (via) => {
    const before = usConnections;
    const result = await runA(`http://127.0.0.1:${usPort}/`, via);
    expect(result.ok).toBe(false);
    if (via === 'fetch') {
      expect(result).toMatchObject({ name: 'TypeError', causeCode: 'ERR_PROVENANCE_DENIED', causeRule: 'pii-stays-in-eu' });
    } else {
      expect(result).toMatchObject({ code: 'ERR_PROVENANCE_DENIED', rule: 'pii-stays-in-eu' });
    }
    await acceptProbe(usServer);
    // The probe is the only connection since the client started.
    expect(usConnections).toBe(before + 1);
  });
});
