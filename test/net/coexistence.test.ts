// Coexistence with the app's own OpenTelemetry: A and B each set up a tracer provider, W3C
// trace-context + baggage propagators and OTel's http and undici instrumentations, and A puts
// app baggage in its active context. Whatever both sides inject, B must receive one traceparent
// (OTel's client span) and one baggage header holding the app's member and provenant's signed
// members, B must trust A's labels, and B's lineage must join A's trace.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNode, startNode, stopAll } from '../helpers/spawn';
import { cleanupTempDirs, tempDir } from '../helpers/tmp';
import { fixture, lastJson, serviceEnv, waitForRecord, writeConfig } from './helpers';

interface AppSpan {
  name: string;
  kind: number;
  scope: string;
  traceId: string;
  spanId: string;
}

interface ClientReport {
  answer: {
    rawHeaders: string[];
    stored: true | { code: string | null; rule: string | null };
    provenance: { labels: { integrity: string; tags: string[] }; sources: string[] };
  };
  spans: AppSpan[];
}

/** SpanKind.CLIENT in @opentelemetry/api. */
const CLIENT = 2;
const OTEL_SCOPE = { http: '@opentelemetry/instrumentation-http', fetch: '@opentelemetry/instrumentation-undici' } as const;

let dir: string;
let bPort: number;

const config = (service: string): string => `
service: ${service}
node: n1
resources:
  - match: { path: "in/**" }
    labels: { integrity: high, tags: [gold-data] }
  - match: { path: "hi/**" }
    labels: { integrity: high }
  - match: { service: a }
    labels: { integrity: high }
trust: { peers: ["127.0.0.1"] }
`;

beforeAll(async () => {
  dir = tempDir();
  mkdirSync(path.join(dir, 'in'));
  mkdirSync(path.join(dir, 'hi'));
  writeConfig(dir, 'a', config('a'));
  const b = startNode({
    args: [fixture('otel-app.cjs')],
    preload: 'require',
    cwd: dir,
    env: serviceEnv(dir, writeConfig(dir, 'b', config('b')), { ROLE: 'server' }),
  });
  bPort = Number((await b.waitForLine(/^listening (\d+)$/))[1]);
});

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

const headerValues = (raw: readonly string[], name: string): string[] =>
  raw.flatMap((value, i) => (i % 2 === 0 && value.toLowerCase() === name ? [raw[i + 1]] : []));

describe.each(['http', 'fetch'] as const)('A → B over %s with OpenTelemetry http + undici instrumentations enabled', (via) => {
  let report: ClientReport;
  let clientSpan: AppSpan;
  // One input per client: identical flows from one caller are aggregated into one journal record.
  const input = (): string => path.join(dir, 'in', `${via}.txt`);
  const output = (): string => path.join(dir, 'hi', `${via}.txt`);

  beforeAll(async () => {
    writeFileSync(input(), `order sent by ${via}`);
    const result = await runNode({
      args: [fixture('otel-app.cjs')],
      preload: 'require',
      cwd: dir,
      env: serviceEnv(dir, path.join(dir, 'a.yaml'), {
        ROLE: 'client',
        VIA: via,
        FILE: input(),
        TARGET: `http://127.0.0.1:${bPort}/echo?file=${encodeURIComponent(output())}`,
      }),
    });
    expect(result.code, result.stderr).toBe(0);
    report = lastJson(result.stdout);
    expect(report, result.stdout).toHaveProperty('answer');
    const found = report.spans.find((span) => span.kind === CLIENT && span.scope === OTEL_SCOPE[via]);
    expect(found, JSON.stringify(report.spans)).toBeDefined();
    clientSpan = found as AppSpan;
  });

  it("B receives one traceparent, OTel's client span", () => {
    expect(headerValues(report.answer.rawHeaders, 'traceparent')).toEqual([`00-${clientSpan.traceId}-${clientSpan.spanId}-01`]);
  });

  it("B receives one baggage header with the app's member and provenant's signed members", () => {
    const baggage = headerValues(report.answer.rawHeaders, 'baggage');
    expect(baggage).toHaveLength(1);
    const members = baggage[0].split(',').map((member) => member.trim());
    expect(members).toContain('user.tier=gold');
    expect(members.filter((member) => member === 'user.tier=gold')).toHaveLength(1);
    expect(members.some((member) => member.startsWith('provenant.sig='))).toBe(true);
  });

  it("B trusts A's signed labels: the high-integrity write is allowed and the labels came through", () => {
    expect(report.answer.stored).toBe(true);
    expect(existsSync(output())).toBe(true);
    expect(report.answer.provenance.labels).toMatchObject({ integrity: 'high', tags: ['gold-data'] });
    expect(report.answer.provenance.sources).toEqual(expect.arrayContaining([`file://n1${input()}`, 'service://a']));
  });

  it("B's lineage is in the trace of A's OTel client span", async () => {
    const inTrace = (op: string, resource: string) => (r: { service: string; op: string; resource: string; traceId?: string }) =>
      r.service === 'b' && r.op === op && r.resource === resource && r.traceId === clientSpan.traceId;
    await waitForRecord(dir, inTrace('read', 'service://a'));
    const write = await waitForRecord(dir, inTrace('write', `file://n1${output()}`));
    expect(write.decision).toBe('allow');
  });
});
