/**
 * Lineage tracing: a private TracerProvider (provenant never replaces the app's global one)
 * wired to OTLP per the standard OTEL_* variables. With no endpoint nothing is exported and no
 * connection is ever attempted; span ids are still made so the journal can name them.
 */
import {
  diag,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  TraceFlags,
  type Attributes,
  type Link,
  type SpanContext,
  type Tracer,
  type TracerProvider as ApiTracerProvider,
} from '@opentelemetry/api';
import type { SpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { otelResources, otelSdkTrace } from '../support/otel-sdk.js';
import type { ExportProtocol } from './span-export.js';
import type { LineageSink, LineageSpanName } from '../engine/sinks.js';
import type { ExportStatus } from './export-status.js';
import { WorkerSpanProcessor, type ExitFlushBudget, type SpanExportPort } from './worker-span-processor.js';
import { defaultSampling, EvidenceSampler, isEvidence, samplerFromEnv } from './sampler.js';
import { unexportedSpan } from './unexported-span.js';
import { finishedSpan } from './wire-span.js';

export type ExporterChoice = { kind: 'console' } | { kind: 'otlp'; protocol: ExportProtocol };

/** Where OTLP spans go: the export thread's port and the status cells its span export was given. */
export interface OtlpSpanExport {
  port: SpanExportPort;
  status: ExportStatus;
}

/**
 * Reads the standard OTEL_* variables the way the OpenTelemetry SDK documents them:
 * OTEL_TRACES_EXPORTER is a list (`otlp,console` exports to both), `none` exports nothing, and
 * `otlp` without an endpoint is left out (no connection is ever attempted to a default).
 */
export function chooseExporters(env: NodeJS.ProcessEnv): ExporterChoice[] {
  if ((env['OTEL_SDK_DISABLED'] ?? '').trim().toLowerCase() === 'true') return [];
  const names = new Set((env['OTEL_TRACES_EXPORTER'] ?? 'otlp').split(',').map((value) => value.trim().toLowerCase()));
  if (names.has('none')) return [];
  const choices: ExporterChoice[] = [];
  for (const name of names) {
    if (name === 'console') choices.push({ kind: 'console' });
    else if (name === 'otlp') {
      const otlp = otlpChoice(env);
      if (otlp) choices.push(otlp);
    } else if (name !== '') diag.warn(`provenant: unsupported OTEL_TRACES_EXPORTER value "${name}" ignored`);
  }
  return choices;
}

function otlpChoice(env: NodeJS.ProcessEnv): ExporterChoice | undefined {
  const endpoint = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] ?? env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  if (!endpoint || endpoint.trim() === '') return undefined;
  const protocol = (env['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'] ?? env['OTEL_EXPORTER_OTLP_PROTOCOL'] ?? 'grpc').trim().toLowerCase();
  if (protocol === 'http/protobuf' || protocol === 'http/json' || protocol === 'grpc') return { kind: 'otlp', protocol };
  diag.warn(`provenant: unknown OTEL_EXPORTER_OTLP_PROTOCOL "${protocol}", using grpc`);
  return { kind: 'otlp', protocol: 'grpc' };
}

export class LineageTracing implements LineageSink {
  private built: TracerProvider | undefined;
  private readonly version: string;
  private tracer: Tracer | undefined;
  /** Set once the app's own TracerProvider carries the lineage spans (its Resource, processors, exporters). */
  private adopted = false;
  private readonly workerProcessor: WorkerSpanProcessor | undefined;
  private readonly defaultSampling = defaultSampling(process.env);
  /**
   * Spans go to the export thread only, under the default sampler: they are made here without the
   * SDK, as the SDK would make them, so the app's thread never loads it (support/otel-sdk.ts).
   */
  private readonly withoutSdk: boolean;

  /**
   * The provider is built on the first span that needs the SDK (a console exporter, another
   * sampler, no OTLP export), so a process that makes none never loads it. `otlp`: present
   * when `choices` has an OTLP exporter.
   */
  constructor(
    private readonly resourceAttributes: () => Attributes,
    private readonly choices: readonly ExporterChoice[],
    version: string,
    otlp: OtlpSpanExport | undefined,
  ) {
    this.version = version;
    this.workerProcessor = otlp ? new WorkerSpanProcessor(otlp.port, otlp.status) : undefined;
    this.withoutSdk = this.workerProcessor !== undefined && choices.length === 1 && this.defaultSampling;
  }

  /** Whether a span emitted now can reach anyone: an exporter of provenant's, or the app's adopted provider. */
  private get exporting(): boolean {
    return this.adopted || this.choices.length > 0;
  }

  private provider(): TracerProvider {
    if (this.built) return this.built;
    const { ConsoleSpanExporter, SimpleSpanProcessor, TracerProvider } = otelSdkTrace();
    const resource = this.resourceAttributes();
    const processors: SpanProcessor[] = [];
    for (const choice of this.choices) {
      if (choice.kind === 'console') processors.push(new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() }));
      else if (this.workerProcessor) processors.push(this.workerProcessor);
    }
    this.built = new TracerProvider({
      resource: otelResources().resourceFromAttributes(resource),
      spanProcessors: processors,
      sampler: new EvidenceSampler(samplerFromEnv(process.env)),
    });
    return this.built;
  }

  /**
   * Emit through the app's own TracerProvider from now on: lineage spans then share its Resource,
   * sampler and exporters (exported once, by the app's pipeline), and its shutdown flushes them.
   */
  adopt(provider: ApiTracerProvider | undefined): void {
    this.tracer = (provider ?? this.provider()).getTracer('provenant', this.version);
    this.adopted = provider !== undefined;
  }

  emit(name: LineageSpanName, attributes: Attributes, links: Link[], parent: SpanContext | undefined): SpanContext {
    // From ROOT_CONTEXT, never the active context: an app's (or its exporter's) suppressTracing
    // would make this an invalid all-zero span, and evidence must not depend on it. All-zero
    // parents and links (a peer's claim, a stored write span) name nothing: left out.
    const validParent = parent && isSpanContextValid(parent) ? parent : undefined;
    if (!this.exporting && this.defaultSampling) return unexportedSpan(validParent, isEvidence(name));
    const parentContext = validParent ? trace.setSpanContext(ROOT_CONTEXT, validParent) : ROOT_CONTEXT;
    const validLinks = links.every((link) => isSpanContextValid(link.context))
      ? links
      : links.filter((link) => isSpanContextValid(link.context));
    if (this.withoutSdk && !this.adopted && this.workerProcessor) {
      const context = unexportedSpan(validParent, isEvidence(name));
      if ((context.traceFlags & TraceFlags.SAMPLED) !== 0)
        this.workerProcessor.add(finishedSpan(name, context, validParent, attributes, validLinks, this.version));
      return context;
    }
    this.tracer ??= this.provider().getTracer('provenant', this.version);
    const span = this.tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes, links: validLinks }, parentContext);
    span.end();
    return span.spanContext();
  }

  /** Synchronous, bounded flush for process exit paths. */
  flushSync(budget: ExitFlushBudget): void {
    if (!this.adopted) this.workerProcessor?.flushSync(budget);
  }

  async shutdown(): Promise<void> {
    if (this.built) await this.built.shutdown();
    else await this.workerProcessor?.shutdown();
  }

  /** How many spans never reached the collector and why (one sentence); undefined when none. */
  lossReport(): string | undefined {
    return this.workerProcessor?.lossReport();
  }
}
