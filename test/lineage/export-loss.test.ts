/**
 * Lost exports are counted and explained. A collector that accepts connections but never answers
 * leaves every span unconfirmed: the bounded queue drops what comes beyond it, and a bounded flush
 * reports both. Real export thread (from dist/), real gRPC exporter, real sockets on loopback.
 */
import net from 'node:net';
import path from 'node:path';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { ExportThread } from '../../src/export/export-thread.js';
import { ExportStatus } from '../../src/lineage/export-status.js';
import { WorkerSpanProcessor } from '../../src/lineage/worker-span-processor.js';
import { repoRoot } from '../helpers/spawn.js';

const QUEUE_BOUND = 8192;
const sockets = new Set<net.Socket>();
// Reads whatever the exporter sends and never answers, not even the HTTP/2 handshake.
const mute = net.createServer((socket) => {
  sockets.add(socket);
  socket.on('error', () => {});
  socket.resume();
});

beforeAll(() => new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve)));
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => mute.close(resolve));
});

it('a collector that never answers: the excess is dropped, the rest unconfirmed, and the report says so', async () => {
  const saved = { ...process.env };
  // The worker takes its environment when it is created. The exporter's own timeout (far longer
  // than making the spans takes) ends the exports, so shutdown ends soon after the assertions.
  process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] = `http://127.0.0.1:${(mute.address() as net.AddressInfo).port}`;
  process.env['OTEL_EXPORTER_OTLP_TIMEOUT'] = '3000';
  const status = new ExportStatus();
  const thread = new ExportThread(
    { provenantExportWorker: true, spans: { protocol: 'grpc', resource: { 'service.name': 'loss-test' }, status: status.cells } },
    path.join(repoRoot, 'dist', 'export', 'export-worker.js'),
  );
  const processor = new WorkerSpanProcessor(thread, status);
  process.env = saved;
  const provider = new TracerProvider({ spanProcessors: [processor] });
  const tracer = provider.getTracer('loss-test');
  for (let i = 0; i < QUEUE_BOUND + 100; i++) tracer.startSpan(`span ${i}`).end();

  processor.flushSync({ startMs: 20_000, exportMs: 100 });
  // Unconfirmed when the flush gave up, or refused once the exporter's own timeout passed.
  expect(processor.lossReport()).toMatch(
    new RegExp(
      `^${QUEUE_BOUND + 100} of ${QUEUE_BOUND + 100} spans were not exported: 100 dropped because the export queue was full; ${QUEUE_BOUND} ` +
        '(because the collector had not confirmed them within 100 ms of exit|refused by the collector or not delivered to it)$',
    ),
  );
  await provider.shutdown();
  await thread.close();
}, 30_000);

it('an export worker that fails to start: its spans are reported lost with the reason', async () => {
  const status = new ExportStatus();
  const thread = new ExportThread(
    { provenantExportWorker: true, spans: { protocol: 'grpc', resource: {}, status: status.cells } },
    path.join(repoRoot, 'dist', 'export', 'no-such-worker.js'),
  );
  const processor = new WorkerSpanProcessor(thread, status);
  const provider = new TracerProvider({ spanProcessors: [processor] });
  provider.getTracer('loss-test').startSpan('lost').end();
  // The batch timer hands the span over; the worker's failure arrives as an event on this thread,
  // after which an exit does not wait for the worker at all.
  await vi.waitUntil(() => processor.lossReport()?.includes('failed'), { timeout: 10_000, interval: 10 });
  processor.flushSync({ startMs: 60_000, exportMs: 60_000 });
  expect(processor.lossReport()).toMatch(
    /^1 of 1 spans were not exported: 1 because the export worker failed \(Cannot find module .*no-such-worker\.js.*\)$/s,
  );
});
