/**
 * The app's own OpenTelemetry SDK exports its spans to the collector the operator named, even
 * after the app read confidential data, and none of that I/O is journaled; the same bytes sent
 * any other way (the app's own request to the collector, its exporter aimed elsewhere) are
 * decided as data and denied, with nothing reaching the listener.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
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

/** Another unlabelled listener, not named by any OTEL_* variable: counts what reaches it. */
let elsewhere: Server;
let elsewhereConnections = 0;
beforeAll(async () => {
  elsewhere = createServer((req, res) => req.resume().on('end', () => res.end('{}')));
  elsewhere.on('connection', () => elsewhereConnections++);
  elsewhere.listen(0, '127.0.0.1');
  await once(elsewhere, 'listening');
});
afterAll(() => new Promise<void>((done) => elsewhere.close(() => done())));

/** An app with its own SDK that reads a confidential file, then does `action` and prints how it went. */
const appWith = (action: string): { dir: string; state: string } =>
  confidentialApp(
    'provenant-app-otel-',
    `const http = require('node:http');
const { context, trace } = require(${otelModule('api')});
const { AsyncLocalStorageContextManager } = require(${otelModule('context-async-hooks')});
const { TracerProvider, BatchSpanProcessor } = require(${otelModule('sdk-trace')});
const { OTLPTraceExporter } = require(${otelModule('exporter-trace-otlp-proto')});
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());`,
    action,
  );

const exportSpans = (exporterOptions: string): string => `
const exporter = new OTLPTraceExporter(${exporterOptions});
const provider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter })] });
const span = provider.getTracer('the-app').startSpan('handled', { attributes: { 'app.size': secret.length } });
span.end();
exporter.export([span], (result) => report({ code: result.code, error: result.error && (result.error.code || result.error.message) }));
`;

async function run(dir: string, state: string): Promise<unknown> {
  const result = await runNode({
    args: ['app.js'],
    cwd: dir,
    preload: 'require',
    env: {
      PROVENANT_STATE_DIR: state,
      PROVENANT_MODE: 'enforce',
      // The app's exporter reads these; provenant's own export is off so every request the
      // receiver counts is the app's.
      OTEL_EXPORTER_OTLP_ENDPOINT: receiverOf().httpEndpoint,
      OTEL_TRACES_EXPORTER: 'none',
      // The journal's own log export (another channel, tested in test/export) would reach the receiver too.
      OTEL_LOGS_EXPORTER: 'none',
    },
  });
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout.trim());
}

const receiverOrigin = (): string => receiverOf().httpEndpoint.replace(/\/$/, '');
const port = (endpoint: string): string => new URL(endpoint).port;

it("the app's exporter reaches the configured collector after a confidential read; none of its I/O is journaled", async () => {
  receiverOf().reset();
  const { dir, state } = appWith(exportSpans(''));
  expect(await run(dir, state)).toEqual({ code: 0 });
  const spans = await receiverOf().waitForSpans((all) => all.some((span) => span.name === 'handled'));
  expect(spans.find((span) => span.name === 'handled')?.scope.name).toBe('the-app');
  const records = journalRecords(state);
  // The read is journaled (it is the app's data); nothing names the collector.
  expect(records.some((record) => record.resource.endsWith('/secret/record.txt'))).toBe(true);
  expect(records.filter((record) => record.resource.includes(`:${port(receiverOrigin())}`))).toEqual([]);
});

it('the same collector, written to by the app itself: denied, nothing reaches it', async () => {
  receiverOf().reset();
  const connections = receiverOf().connections;
  const { dir, state } = appWith(`
const req = http.request(${JSON.stringify(receiverOrigin() + '/v1/traces')}, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' } });
req.on('error', (error) => report({ error: error.code }));
req.end(secret);
`);
  expect(await run(dir, state)).toEqual({ error: 'ERR_PROVENANCE_DENIED' });
  expect(receiverOf().connections).toBe(connections);
  expect(receiverOf().requests).toBe(0);
  expect(journalRecords(state).some((record) => record.decision === 'deny' && record.resource === receiverOrigin())).toBe(true);
});

it("the app's exporter aimed at a host no OTEL_* variable names: denied, nothing reaches it", async () => {
  const before = elsewhereConnections;
  const url = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/v1/traces`;
  const { dir, state } = appWith(exportSpans(`{ url: ${JSON.stringify(url)} }`));
  expect(await run(dir, state)).toEqual({ code: 1, error: 'ERR_PROVENANCE_DENIED' });
  expect(elsewhereConnections).toBe(before);
});

it("the SDK host detector's read of /etc/machine-id is not journaled; the app's own read of it is", async () => {
  const detect = (own: boolean): { dir: string; state: string } =>
    appWith(`
const { detectResources, hostDetector } = require(${otelModule('resources')});
const resource = detectResources({ detectors: [hostDetector] });
${own ? "fs.readFileSync('/etc/machine-id');" : ''}
resource.waitForAsyncAttributes().then(() => report({ hostId: resource.attributes['host.id'] }));
`);
  const machineId = readFileSync('/etc/machine-id', 'utf8').trim();
  const named = (state: string): boolean => journalRecords(state).some((record) => record.resource.endsWith('/etc/machine-id'));
  const sdk = detect(false);
  expect(await run(sdk.dir, sdk.state)).toEqual({ hostId: machineId });
  expect(named(sdk.state)).toBe(false);
  const app = detect(true);
  expect(await run(app.dir, app.state)).toEqual({ hostId: machineId });
  expect(named(app.state)).toBe(true);
});

// The detector reads /proc/self/mountinfo only when /proc/self/cgroup names no container (cgroup
// v2 hosts); on this test host cgroup does, so only that read of the detector is exercised here.
it("the container detector's read of /proc/self/cgroup is not journaled; the app's own reads are", async () => {
  const detect = (own: boolean): { dir: string; state: string } =>
    appWith(`
const { detectResources } = require(${otelModule('resources')});
const { containerDetector } = require(${otelModule('resource-detector-container')});
const resource = detectResources({ detectors: [containerDetector] });
${own ? "fs.readFileSync('/proc/self/cgroup'); fs.readFileSync('/proc/self/mountinfo');" : ''}
resource.waitForAsyncAttributes().then(() => report({ containerId: resource.attributes['container.id'] ?? null }));
`);
  const named = (state: string): string[] =>
    journalRecords(state)
      .map((record) => record.resource)
      .filter((resource) => resource.endsWith('/cgroup') || resource.endsWith('/mountinfo'));
  const sdk = detect(false);
  const detected = await run(sdk.dir, sdk.state);
  expect(named(sdk.state)).toEqual([]);
  const app = detect(true);
  // The detector still sees the same files (whatever this host's container id is).
  expect(await run(app.dir, app.state)).toEqual(detected);
  expect(named(app.state)).toHaveLength(2);
});
