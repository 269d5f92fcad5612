/**
 * What the engine needs from its sinks. The engine owns these interfaces; the journal and the
 * lineage tracer implement them, so neither is imported by the engine and data flows one way.
 */
import type { Attributes, Link, SpanContext } from '@opentelemetry/api';
import type { FlowRecord } from './flow-record.js';

export type LineageSpanName =
  | 'provenant.read'
  | 'provenant.write'
  | 'provenant.deny'
  | 'provenant.record'
  | 'provenant.checkpoint'
  | 'provenant.attest'
  | 'provenant.monitor';

export interface LineageSink {
  /** Emit a span that starts and ends now; returns its span context (for links and the journal). */
  emit(name: LineageSpanName, attributes: Attributes, links: Link[], parent: SpanContext | undefined): SpanContext;
}

export interface JournalSink {
  append(record: FlowRecord): void;
}
