/**
 * The app's own OTLP/gRPC exporter (@grpc/grpc-js) reaches the collector the operator named after
 * the app read confidential data, by address or by name, and none of that I/O is journaled; the
 * app's own query of the collector's name, connection to it (raw TCP, HTTP/2) and its gRPC exporter aimed at a
 * listener no OTEL_* variable names are decided as data: denied, nothing reaches the listener.
 */
import { once } from 'node:events';
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { journalRecords } from '../helpers/journal.js';
import { useOtlpReceiver } from '../helpers/otlp-receiver.js';
import { runNode, stopAll } from '../helpers/spawn.js';
import { confidentialApp, otelModule } from './confidential-app.js';
import { cleanupTempDirs } from '../helpers/tmp.js';

const receiverOf = useOtlpReceiver({ beforeAll, afterAll }, async () => {
  await stopAll();
  await cleanupTempDirs();
});

/** A TCP listener no OTEL_* variable names: counts connections and bytes. */
let elsewhere: net.Server;
let elsewhereConnections = 0;
let elsewhereBytes = 0;
beforeAll(async () => {
  elsewhere = net.createServer((socket) => {
    elsewhereConnections++;
    socket.on('data', (chunk: Buffer) => (elsewhereBytes += chunk.length)).on('error', () => undefined);
  });
  elsewhere.listen(0, '127.0.0.1');
  await once(elsewhere, 'listening');
});
afterAll(() => new Promise<void>((done) => elsewhere.close(() => done())));

const grpcPort = (): number => Number(new URL(receiverOf().grpcEndpoint).port);

/** An app that reads a confidential file, then does `action` and prints how it went. */
const appWith = (action: string): { dir: string; state: string } =>
  confidentialApp(
    'provenant-app-grpc-',
    `const net = require('node:net');
const http2 = require('node:http2');
const { TracerProvider, BatchSpanProcessor } = require(${otelModule('sdk-trace')});
const { OTLPTraceExporter } = require(${otelModule('exporter-trace-otlp-grpc')});`,
    action,
  );

const exportSpans = (exporterOptions: string): string => `
const exporter = new OTLPTraceExporter(${exporterOptions});
const provider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter })] });
const span = provider.getTracer('the-app').startSpan('handled', { attributes: { 'app.size': secret.length } });
span.end();
exporter.export([span], (result) => { report({ code: result.code }); exporter.shutdown(); });
`;

async function run(dir: string, state: string, endpoint: string, extra: Record<string, string> = {}): Promise<unknown> {
  const result = await runNode({
    args: ['app.js'],
    cwd: dir,
    preload: 'require',
    env: {
      PROVENANT_STATE_DIR: state,
      PROVENANT_MODE: 'enforce',
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      // provenant's own exports are off so every connection the receiver counts is the app's.
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      ...extra,
    },
  });
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout.trim());
}

const naming = (state: string, port: number): string[] =>
  journalRecords(state)
    .map((record) => record.resource)
    .filter((resource) => resource.includes(`:${port}`) || resource.startsWith('udp://'));

for (const host of ['127.0.0.1', 'localhost']) {
  it(`the app's gRPC exporter reaches the collector named as ${host} after a confidential read; nothing of it is journaled`, async () => {
    receiverOf().reset();
    const { dir, state } = appWith(exportSpans(''));
    expect(await run(dir, state, `http://${host}:${grpcPort()}`)).toEqual({ code: 0 });
    const spans = await receiverOf().waitForSpans((all) => all.some((span) => span.name === 'handled'));
    expect(spans.find((span) => span.name === 'handled')?.protocol).toBe('grpc');
    const records = journalRecords(state);
    expect(records.some((record) => record.resource.endsWith('/secret/record.txt'))).toBe(true);
    // Neither the connection, the HTTP/2 session, its streams nor grpc-js's lookup of the name.
    expect(naming(state, grpcPort())).toEqual([]);
  });
}

it("the app's own DNS query, TCP connection and HTTP/2 session to the same collector: denied, nothing reaches it", async () => {
  receiverOf().reset();
  const before = receiverOf().connections;
  const { dir, state } = appWith(`
const outcome = {};
try { http2.connect('http://127.0.0.1:${grpcPort()}'); outcome.http2 = 'opened'; } catch (error) { outcome.http2 = error.code; }
require('node:dns').promises.lookup('localhost', { all: true }).then(() => 'resolved', (error) => error.code).then((dns) => {
  outcome.dns = dns;
  const socket = net.connect(${grpcPort()}, '127.0.0.1');
  socket.on('error', (error) => { if (outcome.tcp) return; outcome.tcp = error.code; report(outcome); });
  socket.end(secret);
});
`);
  // Both spellings named, as grpc-js's resolver would be exempt for the name.
  const named = { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://localhost:${grpcPort()}` };
  expect(await run(dir, state, receiverOf().grpcEndpoint, named)).toEqual({
    http2: 'ERR_PROVENANCE_DENIED',
    dns: 'ERR_PROVENANCE_DENIED',
    tcp: 'ERR_PROVENANCE_DENIED',
  });
  expect(receiverOf().connections).toBe(before);
  expect(receiverOf().requests).toBe(0);
  const denied = journalRecords(state)
    .filter((record) => record.decision === 'deny')
    .map((record) => record.resource);
  expect(denied).toEqual(expect.arrayContaining([`http://127.0.0.1:${grpcPort()}`, `tcp://127.0.0.1:${grpcPort()}`]));
  expect(denied.some((resource) => resource.startsWith('udp://'))).toBe(true);
});

it("the app's gRPC exporter aimed at a listener no OTEL_* variable names: denied, nothing reaches it", async () => {
  const connections = elsewhereConnections;
  const bytes = elsewhereBytes;
  const port = (elsewhere.address() as net.AddressInfo).port;
  const { dir, state } = appWith(exportSpans(`{ url: 'http://127.0.0.1:${port}', timeoutMillis: 1000 }`));
  expect(await run(dir, state, receiverOf().grpcEndpoint)).toEqual({ code: 1 });
  expect(elsewhereConnections).toBe(connections);
  expect(elsewhereBytes).toBe(bytes);
  expect(journalRecords(state).some((record) => record.decision === 'deny' && record.resource === `tcp://127.0.0.1:${port}`)).toBe(true);
});
