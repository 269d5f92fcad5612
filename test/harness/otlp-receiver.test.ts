// Self-test of the harness: the real OTLP exporters, in a child process, export to the receiver.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type OtlpProtocol, type OtlpReceiver, startOtlpReceiver } from '../helpers/otlp-receiver.js';
import { closedPort, freePort } from '../helpers/ports.js';
import { nodeBin, repoRoot, runNode, startNode, stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

// Exports a parent span and a child (attributes, an event, a link) with the exporter named in
// argv, then shuts down, which flushes. Prints both span contexts so the test can match ids.
const EXPORT_SCRIPT = `
const path = require('node:path');
const { createRequire } = require('node:module');
const [repoRoot, packageName, url, compression] = process.argv.slice(2);
const load = createRequire(path.join(repoRoot, 'package.json'));
const api = load('@opentelemetry/api');
const { TracerProvider, SimpleSpanProcessor } = load('@opentelemetry/sdk-trace');
const { resourceFromAttributes } = load('@opentelemetry/resources');
const { OTLPTraceExporter } = load(packageName);

api.diag.setLogger(new api.DiagConsoleLogger(), api.DiagLogLevel.WARN);
const exporter = new OTLPTraceExporter({ url, compression });
const provider = new TracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'harness-selftest' }),
  spanProcessors: [new SimpleSpanProcessor({ exporter })],
});
const tracer = provider.getTracer('harness', '1.2.3');
const parent = tracer.startSpan('harness.parent');
// An explicit parent context: no context manager is registered in this script.
const span = tracer.startSpan('harness.export', {
  kind: api.SpanKind.CLIENT,
  attributes: { 'provenant.resource': 'file://n/x', 'n.int': 42, 'n.double': 1.5, ok: true, tags: ['pii', 'phi'] },
  links: [{
    context: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 },
    attributes: { 'link.role': 'source' },
  }],
}, api.trace.setSpan(api.ROOT_CONTEXT, parent));
span.addEvent('checkpoint', { size: 7 });
const ids = ({ traceId, spanId }) => ({ traceId, spanId });
console.log(JSON.stringify({ parent: ids(parent.spanContext()), child: ids(span.spanContext()) }));
(async () => {
  span.end();
  // One export at a time, so the second reuses the first's connection (the test counts them).
  await provider.forceFlush();
  parent.end();
  await provider.shutdown();
})().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
`;

interface Case {
  protocol: OtlpProtocol;
  packageName: string;
  compression: 'none' | 'gzip';
}

const cases: Case[] = [
  { protocol: 'grpc', packageName: '@opentelemetry/exporter-trace-otlp-grpc', compression: 'none' },
  { protocol: 'grpc', packageName: '@opentelemetry/exporter-trace-otlp-grpc', compression: 'gzip' },
  { protocol: 'http/protobuf', packageName: '@opentelemetry/exporter-trace-otlp-proto', compression: 'none' },
  { protocol: 'http/protobuf', packageName: '@opentelemetry/exporter-trace-otlp-proto', compression: 'gzip' },
  { protocol: 'http/json', packageName: '@opentelemetry/exporter-trace-otlp-http', compression: 'none' },
  { protocol: 'http/json', packageName: '@opentelemetry/exporter-trace-otlp-http', compression: 'gzip' },
];

let receiver: OtlpReceiver;
let script: string;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  script = path.join(tempDir('otlp-selftest-'), 'export.cjs');
  writeFileSync(script, EXPORT_SCRIPT);
});

afterEach(() => receiver.reset());

afterAll(async () => {
  await stopAll();
  await receiver.close();
  await cleanupTempDirs();
});

describe('OTLP receiver with the real exporters', () => {
  it.each(cases)('receives a span over $protocol (compression $compression)', async (c) => {
    const url = c.protocol === 'grpc' ? receiver.grpcEndpoint : `${receiver.httpEndpoint}/v1/traces`;
    const run = await runNode({ args: [script, repoRoot, c.packageName, url, c.compression] });
    expect(run, run.stderr).toMatchObject({ code: 0, signal: null });
    type SpanContext = { traceId: string; spanId: string };
    const sent = JSON.parse(run.stdout) as { parent: SpanContext; child: SpanContext };

    const spans = await receiver.waitForSpans((received) => received.length === 2);
    const span = spans.find((s) => s.name === 'harness.export');
    const parent = spans.find((s) => s.name === 'harness.parent');
    expect(parent).toMatchObject({ ...sent.parent, protocol: c.protocol });
    expect(parent!.parentSpanId).toBeUndefined();
    expect(span).toMatchObject({
      ...sent.child,
      parentSpanId: sent.parent.spanId,
      name: 'harness.export',
      kind: 3, // OTLP SPAN_KIND_CLIENT
      protocol: c.protocol,
      attributes: {
        'provenant.resource': 'file://n/x',
        'n.int': 42,
        'n.double': 1.5,
        ok: true,
        tags: ['pii', 'phi'],
      },
      links: [
        {
          traceId: '0af7651916cd43dd8448eb211c80319c',
          spanId: 'b7ad6b7169203331',
          attributes: { 'link.role': 'source' },
        },
      ],
      events: [{ name: 'checkpoint', attributes: { size: 7 } }],
      resource: { 'service.name': 'harness-selftest' },
      scope: { name: 'harness', version: '1.2.3' },
      status: { code: 0 },
    });
    expect(span!.endTimeUnixNano).toBeGreaterThanOrEqual(span!.startTimeUnixNano);
    expect(span!.startTimeUnixNano).toBeGreaterThan(1_600_000_000_000_000_000n);
    expect(sent.child.traceId).toBe(sent.parent.traceId);
    // SimpleSpanProcessor exports each span on its own; sequential exports share one connection.
    expect(receiver.requests).toBe(2);
    expect(receiver.connections).toBe(1);
    expect(receiver.errors).toEqual([]);
  });
});

describe('OTLP receiver, direct requests', () => {
  it('normalises OTLP/JSON int64 strings, bytes, kvlists and parent ids; answers in kind', async () => {
    const body = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
          scopeSpans: [
            {
              scope: { name: 's' },
              spans: [
                {
                  traceId: '5B8EFFF798038103D269B633813FC60C',
                  spanId: 'EEE19B7EC3C1B174',
                  parentSpanId: 'EEE19B7EC3C1B173',
                  name: 'child',
                  kind: 2,
                  startTimeUnixNano: '1700000000000000000',
                  endTimeUnixNano: '1700000000000000001',
                  attributes: [
                    { key: 'big', value: { intValue: '9007199254740993' } },
                    { key: 'small', value: { intValue: '-5' } },
                    { key: 'raw', value: { bytesValue: Buffer.from([1, 2, 3]).toString('base64') } },
                    {
                      key: 'map',
                      value: {
                        kvlistValue: {
                          values: [{ key: 'a', value: { arrayValue: { values: [{ boolValue: false }] } } }],
                        },
                      },
                    },
                  ],
                  status: { code: 2, message: 'denied' },
                },
              ],
            },
          ],
        },
      ],
    };
    const response = await fetch(`${receiver.httpEndpoint}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', 'content-encoding': 'gzip' },
      body: gzipSync(JSON.stringify(body)),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({});

    const [span] = receiver.spans;
    expect(span).toMatchObject({
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: 'eee19b7ec3c1b174',
      parentSpanId: 'eee19b7ec3c1b173',
      kind: 2,
      startTimeUnixNano: 1_700_000_000_000_000_000n,
      endTimeUnixNano: 1_700_000_000_000_000_001n,
      attributes: {
        big: 9007199254740993n,
        small: -5,
        raw: new Uint8Array([1, 2, 3]),
        map: { a: [false] },
      },
      status: { code: 2, message: 'denied' },
      resource: { 'service.name': 'svc' },
      protocol: 'http/json',
    });
    expect(receiver.connections).toBe(1);
  });

  it('rejects what is not an OTLP trace export', async () => {
    const traces = `${receiver.httpEndpoint}/v1/traces`;
    expect((await fetch(`${receiver.httpEndpoint}/v1/metrics`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(traces)).status).toBe(405);
    const post = (headers: Record<string, string>, body: string): Promise<Response> => fetch(traces, { method: 'POST', headers, body });
    expect((await post({ 'content-type': 'text/plain' }, 'x')).status).toBe(415);
    const json = { 'content-type': 'application/json' };
    expect((await post({ ...json, 'content-encoding': 'br' }, '{}')).status).toBe(415);
    expect((await post(json, '{not json')).status).toBe(400);
    expect((await post({ 'content-type': 'application/x-protobuf' }, '\u00ff\u00ff')).status).toBe(400);
    expect(receiver.requests).toBe(6);
    expect(receiver.errors).toHaveLength(6);
    expect(receiver.spans).toEqual([]);
  });

  it('waitForSpans rejects with what it did receive', async () => {
    await expect(receiver.waitForSpans((spans) => spans.length > 0, 50)).rejects.toThrow(
      /timed out after 50 ms: 0 span\(s\) received: none/,
    );
  });
});

describe('process and port helpers', () => {
  it('runs Node 24 with a clean environment and stdin', async () => {
    const saved = process.env['OTEL_SERVICE_NAME'];
    process.env['OTEL_SERVICE_NAME'] = 'leak';
    try {
      const run = await runNode({
        args: [
          '-e',
          'process.stdin.pipe(process.stdout);' + 'console.error(process.version, process.env.OTEL_SERVICE_NAME ?? "-", process.env.X)',
        ],
        env: { X: 'set' },
        input: 'echo',
      });
      expect(run).toMatchObject({ code: 0, signal: null, stdout: 'echo' });
      // Node 24 from node_modules, whatever node runs vitest; OTEL_* stripped; env applied.
      expect(run.stderr).toMatch(/^v24\.\d+\.\d+ - set\n$/);
      expect(nodeBin).toMatch(/node_modules/);
    } finally {
      if (saved === undefined) delete process.env['OTEL_SERVICE_NAME'];
      else process.env['OTEL_SERVICE_NAME'] = saved;
    }
  });

  it('starts a server, waits for its line and reports the terminating signal', async () => {
    const port = await freePort();
    const server = startNode({
      args: [
        '-e',
        `require('node:http').createServer((q, r) => r.end('hi'))` +
          `.listen(${port}, '127.0.0.1', () => console.log('listening on ${port}'))`,
      ],
    });
    const [, printed] = await server.waitForLine(/^listening on (\d+)$/);
    expect(Number(printed)).toBe(port);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('hi');
    expect(await server.kill('SIGTERM')).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('closedPort refuses connections', async () => {
    const port = await closedPort();
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toMatchObject({
      cause: { code: 'ECONNREFUSED' },
    });
  });
});
