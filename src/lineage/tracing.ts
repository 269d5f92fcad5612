/**
 * Lineage tracing: a private TracerProvider (provenant never replaces the app's global one)
 * wired to OTLP per the standard OTEL_* variables. With no endpoint nothing is exported and no
 * connection is ever attempted; span ids are still made so the journal can name them.
 */
import { join } from 'node:path';
import {
  diag,
  DiagLogLevel,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  context as otelContext,
  type Attributes,
  type Link,
  type SpanContext,
  type Tracer,
} from '@opentelemetry/api';
import { ConsoleSpanExporter, SimpleSpanProcessor, TracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ExportProtocol } from './export-worker.js';
import type { LineageSink, LineageSpanName } from '../engine/sinks.js';
import { WorkerSpanProcessor, type ExitFlushBudget } from './worker-span-processor.js';
import { EvidenceSampler, samplerFromEnv } from './sampler.js';

export type ExporterChoice = { kind: 'none' } | { kind: 'console' } | { kind: 'otlp'; protocol: ExportProtocol };

/** Reads the standard OTEL_* variables the way the OpenTelemetry SDK documents them. */
export function chooseExporter(env: NodeJS.ProcessEnv): ExporterChoice {
  if ((env['OTEL_SDK_DISABLED'] ?? '').trim().toLowerCase() === 'true') return { kind: 'none' };
  const exporters = (env['OTEL_TRACES_EXPORTER'] ?? 'otlp').split(',').map((value) => value.trim().toLowerCase());
  if (exporters.includes('none')) return { kind: 'none' };
  if (exporters.includes('console')) return { kind: 'console' };
  const endpoint = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] ?? env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  if (!endpoint || endpoint.trim() === '') return { kind: 'none' };
  const protocol = (env['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'] ?? env['OTEL_EXPORTER_OTLP_PROTOCOL'] ?? 'grpc').trim().toLowerCase();
  if (protocol === 'http/protobuf' || protocol === 'http/json' || protocol === 'grpc') return { kind: 'otlp', protocol };
  diag.warn(`provenant: unknown OTEL_EXPORTER_OTLP_PROTOCOL "${protocol}", using grpc`);
  return { kind: 'otlp', protocol: 'grpc' };
}

export class LineageTracing implements LineageSink {
  private readonly provider: TracerProvider;
  private readonly tracer: Tracer;
  private readonly workerProcessor: WorkerSpanProcessor | undefined;

  constructor(resourceAttributes: Attributes, choice: ExporterChoice, version: string, logLevel: DiagLogLevel) {
    const processors: SpanProcessor[] = [];
    if (choice.kind === 'otlp') {
      this.workerProcessor = new WorkerSpanProcessor(join(__dirname, 'export-worker.js'), {
        provenantExportWorker: true,
        protocol: choice.protocol,
        resource: resourceAttributes,
        logLevel,
      });
      processors.push(this.workerProcessor);
    } else if (choice.kind === 'console') {
      processors.push(new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() }));
    }
    this.provider = new TracerProvider({
      resource: resourceFromAttributes(resourceAttributes),
      spanProcessors: processors,
      sampler: new EvidenceSampler(samplerFromEnv(process.env)),
    });
    this.tracer = this.provider.getTracer('provenant', version);
  }

  emit(name: LineageSpanName, attributes: Attributes, links: Link[], parent: SpanContext | undefined): SpanContext {
    const parentContext = parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : otelContext.active();
    const span = this.tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes, links }, parentContext);
    span.end();
    return span.spanContext();
  }

  /** Synchronous, bounded flush for process exit paths. */
  flushSync(budget: ExitFlushBudget): void {
    this.workerProcessor?.flushSync(budget);
  }

  async shutdown(): Promise<void> {
    await this.provider.shutdown();
  }

  /** How many spans never reached the collector and why (one sentence); undefined when none. */
  lossReport(): string | undefined {
    return this.workerProcessor?.lossReport();
  }
}
