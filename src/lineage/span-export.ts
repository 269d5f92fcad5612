/**
 * The OTLP span export, run in provenant's export thread (export/export-worker.ts). Exporting
 * from a thread lets provenant flush spans synchronously from process 'exit' (the app thread
 * blocks on Atomics.wait, bounded, while this thread finishes the export) so `process.exit(n)`,
 * signals and uncaught exceptions lose nothing, and keeps the exporter's own sockets out of the
 * instrumented thread entirely. The exporter is loaded when the first spans arrive, not when the
 * thread starts: a process that exports no span never loads it.
 */
import { diag, type Attributes } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { defaultResource, resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { ExportStatus } from './export-status.js';
import type { WireSpan } from './wire-span.js';

export type ExportProtocol = 'grpc' | 'http/protobuf' | 'http/json';

export interface SpanExportData {
  protocol: ExportProtocol;
  /** The process's resource attributes but the SDK's own (`telemetry.sdk.*`), which are added here. */
  resource: Attributes;
  /** ExportStatus cells shared with the app's thread. */
  status: Int32Array<SharedArrayBuffer>;
}

export class SpanExport {
  private readonly resource: Resource;
  private readonly status: ExportStatus;
  private exporterReady: Promise<SpanExporter | undefined> | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly data: SpanExportData,
    private readonly onBroken: (reason: string) => void,
  ) {
    // As the SDK's resource would be: its defaults, then the process's attributes (service.name among them).
    const { ['service.name']: _default, ...sdk } = defaultResource().attributes;
    this.resource = resourceFromAttributes({ ...sdk, ...data.resource });
    this.status = new ExportStatus(data.status);
  }

  export(spans: WireSpan[]): void {
    const done = this.exporter().then(
      (exporter) =>
        new Promise<void>((resolve) => {
          if (!exporter) {
            this.status.countFailed(spans.length);
            return resolve();
          }
          exporter.export(
            spans.map((wire) => this.toReadable(wire)),
            (result: ExportResult) => {
              if (result.code === ExportResultCode.SUCCESS) this.status.countExported(spans.length);
              else {
                this.status.countFailed(spans.length);
                diag.warn('provenant: span export failed', result.error);
              }
              resolve();
            },
          );
        }),
    );
    this.inFlight.add(done);
    void done.then(() => this.inFlight.delete(done));
  }

  /** Settles once every span received so far was exported or refused. */
  async flush(): Promise<void> {
    try {
      await Promise.all([...this.inFlight]);
      if (this.exporterReady) await (await this.exporterReady)?.forceFlush?.();
    } catch (error) {
      diag.warn('provenant: span export flush failed', error);
    }
  }

  /** Loaded on first use; ready (for the app's exit wait) once loaded. */
  private exporter(): Promise<SpanExporter | undefined> {
    this.exporterReady ??= createExporter(this.data.protocol).then(
      (exporter) => {
        this.status.markReady();
        return exporter;
      },
      (error: unknown) => {
        this.status.markBroken();
        this.onBroken(error instanceof Error ? error.message : String(error));
        return undefined;
      },
    );
    return this.exporterReady;
  }

  private toReadable(wire: WireSpan): ReadableSpan {
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
      resource: this.resource,
      instrumentationScope: wire.scope,
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    };
  }
}

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
