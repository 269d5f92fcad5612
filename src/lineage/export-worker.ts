/**
 * The OTLP export worker. Exporting from a worker thread lets provenant flush spans
 * synchronously from process 'exit' (the app thread blocks on Atomics.wait, bounded, while this
 * thread finishes the export) so `process.exit(n)`, signals and uncaught exceptions lose nothing,
 * and keeps the exporter's own sockets out of the instrumented thread entirely.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { diag, DiagConsoleLogger, DiagLogLevel, type Attributes } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { ExportStatus } from './export-status.js';
import type { FromWorker, ToWorker, WireSpan } from './wire-span.js';

export type ExportProtocol = 'grpc' | 'http/protobuf' | 'http/json';

export interface ExportWorkerData {
  provenantExportWorker: true;
  protocol: ExportProtocol;
  resource: Attributes;
  /** ExportStatus cells shared with the app's thread. */
  status: Int32Array<SharedArrayBuffer>;
  logLevel?: DiagLogLevel;
}

const data = workerData as ExportWorkerData;
if (data.logLevel !== undefined && data.logLevel !== DiagLogLevel.NONE) diag.setLogger(new DiagConsoleLogger(), data.logLevel);

const resource = resourceFromAttributes(data.resource);
const status = new ExportStatus(data.status);
// Loaded at once, not on the first export, and warmed up by an empty export: the transport
// loads lazily, inside that call, and connects on first use. Ready only after it, so the app's
// exit budget is spent on its spans only.
const exporterReady: Promise<SpanExporter | undefined> = createExporter(data.protocol).then(
  (exporter) => {
    exporter.export([], () => {});
    status.markReady();
    return exporter;
  },
  (error: unknown) => {
    status.markBroken();
    const broken: FromWorker = { type: 'broken', reason: error instanceof Error ? error.message : String(error) };
    parentPort?.postMessage(broken);
    return undefined;
  },
);
const inFlight = new Set<Promise<void>>();

function toReadable(wire: WireSpan): ReadableSpan {
  return {
    name: wire.name,
    kind: wire.kind,
    spanContext: () => wire.context,
    parentSpanContext: wire.parent,
    startTime: wire.start,
    endTime: wire.end,
    duration: wire.duration,
    status: wire.status,
    attributes: wire.attributes,
    links: wire.links,
    events: wire.events,
    ended: true,
    resource,
    instrumentationScope: wire.scope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

function exportBatch(spans: WireSpan[]): void {
  const done = exporterReady.then(
    (exporter) =>
      new Promise<void>((resolve) => {
        if (!exporter) {
          status.countFailed(spans.length);
          return resolve();
        }
        exporter.export(spans.map(toReadable), (result: ExportResult) => {
          if (result.code === ExportResultCode.SUCCESS) status.countExported(spans.length);
          else {
            status.countFailed(spans.length);
            diag.warn('provenant: span export failed', result.error);
          }
          resolve();
        });
      }),
  );
  inFlight.add(done);
  void done.then(() => inFlight.delete(done));
}

async function flush(flag: Int32Array): Promise<void> {
  try {
    await Promise.all([...inFlight]);
    await (await exporterReady)?.forceFlush?.();
  } catch (error) {
    diag.warn('provenant: span export flush failed', error);
  } finally {
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  }
}

parentPort?.on('message', (message: ToWorker) => {
  if (message.type === 'spans') exportBatch(message.spans);
  else void flush(message.flag);
});

async function createExporter(protocol: ExportProtocol): Promise<SpanExporter> {
  // Each exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT/HEADERS/TIMEOUT itself.
  switch (protocol) {
    case 'http/protobuf':
      return new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter();
    case 'http/json':
      return new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter();
    default:
      return new (await import('@opentelemetry/exporter-trace-otlp-grpc')).OTLPTraceExporter();
  }
}
