/**
 * One trace per request whatever the load order: with the app's own OpenTelemetry HTTP
 * instrumentation loaded before provenant, after it, or started by the app itself, the lineage
 * spans of a request join the trace of the app's HTTP server span (checked at a real OTLP receiver).
 */
import { connect } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { useOtlpReceiver } from '../helpers/otlp-receiver.js';
import { distRegister, repoRoot, startNode, stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

const receiverOf = useOtlpReceiver({ beforeAll, afterAll }, async () => {
  await stopAll();
  await cleanupTempDirs();
});

const otel = (name: string): string => JSON.stringify(join(repoRoot, 'node_modules', '@opentelemetry', name));

/** The app's SDK, as NodeSDK sets it up: context manager, W3C propagator, provider, HTTP instrumentation. */
const SDK = `const { context, propagation, trace } = require(${otel('api')});
const { AsyncLocalStorageContextManager } = require(${otel('context-async-hooks')});
const { W3CTraceContextPropagator } = require(${otel('core')});
const { TracerProvider, BatchSpanProcessor } = require(${otel('sdk-trace')});
const { OTLPTraceExporter } = require(${otel('exporter-trace-otlp-proto')});
const { registerInstrumentations } = require(${otel('instrumentation')});
const { HttpInstrumentation } = require(${otel('instrumentation-http')});
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
const provider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter(), scheduledDelayMillis: 50 })] });
trace.setGlobalTracerProvider(provider);
registerInstrumentations({ instrumentations: [new HttpInstrumentation()] });
`;

const SERVER = `const fs = require('node:fs');
const server = require('node:http').createServer((req, res) => res.end(fs.readFileSync(__dirname + '/data.txt')));
server.listen(0, '127.0.0.1', () => console.log('port ' + server.address().port));
`;

/** A request with no traceparent (from outside any instrumentation): the app's server span starts the trace. */
function plainRequest(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = connect(port, '127.0.0.1', () => socket.end('GET /items HTTP/1.1\r\nhost: app\r\nconnection: close\r\n\r\n'));
    socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => resolve(text)).on('error', reject);
  });
}

it.each([
  {
    order: 'the app SDK preloaded before provenant',
    files: { 'otel.js': SDK, 'app.js': SERVER },
    args: ['-r', './otel.js', '-r', distRegister],
  },
  {
    order: 'the app SDK preloaded after provenant',
    files: { 'otel.js': SDK, 'app.js': SERVER },
    args: ['-r', distRegister, '-r', './otel.js'],
  },
  { order: 'an app-managed SDK', files: { 'app.js': SDK + SERVER }, args: ['-r', distRegister] },
])("$order: a request's lineage spans join its HTTP server span's trace", async ({ files, args }) => {
  receiverOf().reset();
  const dir = tempDir('provenant-one-trace-');
  for (const [name, text] of Object.entries(files as Record<string, string>)) writeFileSync(join(dir, name), text);
  writeFileSync(join(dir, 'data.txt'), 'items');
  const app = startNode({
    args: [...args, 'app.js'],
    cwd: dir,
    env: {
      PROVENANT_STATE_DIR: join(dir, 'state'),
      OTEL_EXPORTER_OTLP_ENDPOINT: receiverOf().httpEndpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    },
  });
  const [, port] = await app.waitForLine(/^port (\d+)$/);
  expect(await plainRequest(Number(port))).toMatch(/items$/);
  const isServerSpan = (span: { kind: number; scope: { name: string } }): boolean =>
    span.kind === 2 && span.scope.name.includes('instrumentation-http');
  const isFileRead = (span: { name: string; attributes: Record<string, unknown> }): boolean =>
    span.name === 'provenant.read' && String(span.attributes['provenant.resource']).endsWith('/data.txt');
  const isResponse = (span: { name: string; attributes: Record<string, unknown> }): boolean =>
    span.name === 'provenant.write' && String(span.attributes['provenant.resource']).startsWith('tcp://127.0.0.1');
  const spans = await receiverOf().waitForSpans((all) => all.some(isServerSpan) && all.some(isFileRead) && all.some(isResponse));
  const serverSpan = spans.find(isServerSpan)!;
  const callerRead = spans.find((span) => span.name === 'provenant.read' && span.attributes['provenant.resource'] === 'tcp://127.0.0.1');
  for (const span of [callerRead, spans.find(isFileRead), spans.find(isResponse)]) expect(span?.traceId).toBe(serverSpan.traceId);
  // The first lineage span of the request is a child of the app's server span.
  expect(callerRead?.parentSpanId).toBe(serverSpan.spanId);
  await app.kill('SIGKILL');
});
