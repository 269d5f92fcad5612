/**
 * On grpc-js's connection to the collector the operator named, only the OTLP exporter's own calls
 * are the app's telemetry: the app's own grpc-js calls to that collector are decided as flows to
 * it, stream by stream, also when they share the exporter's connection (grpc-js shares one per
 * target between channels with equal options). After a confidential read they are denied and
 * never reach the collector, while the exporter's spans still arrive.
 *
 * The collector is a real grpc-js server (test/helpers/grpc-server.ts): the OTLP trace Export
 * method and an app method of its own, noting each call as its headers arrive.
 */
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startGrpcServer, type GrpcServer } from '../helpers/grpc-server.js';
import { journalRecords } from '../helpers/journal.js';
import { repoRoot } from '../helpers/spawn.js';
import { cleanupTempDirs } from '../helpers/tmp.js';
import { confidentialApp, otelModule, runConfidentialApp } from './confidential-app.js';

afterAll(cleanupTempDirs);

const EXPORT = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const APP_METHOD = '/app.Notes/Send';

let collector: GrpcServer;
beforeAll(async () => {
  collector = await startGrpcServer([EXPORT, APP_METHOD]);
});
afterAll(() => collector.close());

const port = (): number => collector.port;

/** The app: a gRPC span exporter and a grpc-js client of its own for `path`, made with `options`. */
const appWith = (path: string, options: string, action: string): { dir: string; state: string } =>
  confidentialApp(
    'provenant-grpc-streams-',
    `const grpc = require(${JSON.stringify(join(repoRoot, 'node_modules', '@grpc', 'grpc-js'))});
const { TracerProvider, BatchSpanProcessor } = require(${otelModule('sdk-trace')});
const { OTLPTraceExporter } = require(${otelModule('exporter-trace-otlp-grpc')});
const exporterVersion = require(${JSON.stringify(join(repoRoot, 'node_modules', '@opentelemetry', 'otlp-grpc-exporter-base', 'package.json'))}).version;
const exporter = new OTLPTraceExporter();
const provider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter })] });
/** Exports one span named \`name\`, then calls \`then\` with the result code. */
const exportSpan = (name, then) => {
  const span = provider.getTracer('the-app').startSpan(name, { attributes: { 'app.size': secret.length } });
  span.end();
  exporter.export([span], (result) => then(result.code));
};
const Client = grpc.makeGenericClientConstructor({ call: { path: '${path}', requestStream: false, responseStream: false, requestSerialize: (b) => b, requestDeserialize: (b) => b, responseSerialize: (b) => b, responseDeserialize: (b) => b } }, 'AppClient');
const client = new Client('127.0.0.1:${port()}', grpc.credentials.createInsecure(), ${options});
/** The app's own call with \`bytes\`: how it ended (a denial is a failed call naming provenant's error). */
const ownCall = (bytes, then) => client.call(bytes, (error) => then(error ? { status: error.code, denied: /provenant denied/.test(error.details) } : 'sent'));`,
    action,
  );

/** The app under the preload (enforce) with the collector named; provenant's own exports are off, so every call the collector notes is the app's. */
const run = (dir: string, state: string): Promise<unknown> =>
  runConfidentialApp(dir, state, { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port()}` });

it("the app's own grpc-js client calling the collector's OTLP Export method with the secret: denied, the call never arrives; the exporter's span does", async () => {
  collector.reset();
  const { started, bodies } = collector;
  const { dir, state } = appWith(
    EXPORT,
    '{}',
    `ownCall(Buffer.from(secret), (own) => exportSpan('handled', (code) => { report({ own, exported: code }); exporter.shutdown(); client.close(); }));`,
  );
  expect(await run(dir, state)).toEqual({ own: { status: grpc.status.INTERNAL, denied: true }, exported: 0 });
  // One call arrived: the exporter's span, not the secret.
  expect(started.map((call) => call.path)).toEqual([EXPORT]);
  expect(bodies).toHaveLength(1);
  expect(bodies[0]?.body).toContain('handled');
  expect(bodies.some((call) => call.body.includes('SECRET-DIAGNOSIS'))).toBe(false);
  const records = journalRecords(state);
  expect(records.some((record) => record.decision === 'deny' && record.resource === `http://127.0.0.1:${port()}`)).toBe(true);
  // The exporter's call is not journaled: the one record naming the collector is the denial.
  expect(records.filter((record) => record.resource.includes(`:${port()}`)).map((record) => record.decision)).toEqual(['deny']);
});

it("the app's client on the exporter's own connection (its options and user agent) calling another method: denied, nothing of it arrives; the exporter's spans before and after do", async () => {
  collector.reset();
  const { started, bodies } = collector;
  // The exporter's channel options exactly (otlp-grpc-exporter-base), so grpc-js hands both channels one subchannel.
  const options =
    "{ 'grpc.default_compression_algorithm': 0, 'grpc.primary_user_agent': 'OTel-OTLP-Exporter-JavaScript/' + exporterVersion }";
  const { dir, state } = appWith(
    APP_METHOD,
    options,
    `exportSpan('before', (before) => ownCall(Buffer.from(secret), (own) => exportSpan('after', (after) => {
  report({ before, own, after });
  exporter.shutdown();
  client.close();
})));`,
  );
  expect(await run(dir, state)).toEqual({ before: 0, own: { status: grpc.status.INTERNAL, denied: true }, after: 0 });
  expect(started.map((call) => call.path)).toEqual([EXPORT, EXPORT]);
  expect(bodies.map((call) => call.body.includes('before') || call.body.includes('after'))).toEqual([true, true]);
  expect(bodies.some((call) => call.body.includes('SECRET-DIAGNOSIS'))).toBe(false);
  // One connection in all: the app's channel rode the exporter's (a channel of its own would have
  // connected again), and the denial did not cost the exporter its connection.
  expect(collector.connections).toBe(1);
  expect(started[0]?.peer).toBe(started[1]?.peer);
  expect(journalRecords(state).some((record) => record.decision === 'deny' && record.resource === `http://127.0.0.1:${port()}`)).toBe(true);
});
