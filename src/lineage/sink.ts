/** What the engine needs from lineage: emit one finished span per distinct flow. */
import type { Attributes, Link, SpanContext } from '@opentelemetry/api';

export type LineageSpanName = 'provenant.read' | 'provenant.write' | 'provenant.deny' | 'provenant.record' | 'provenant.checkpoint';

export interface LineageSink {
  /** Emit a span that starts and ends now; returns its span context (for links and the journal). */
  emit(name: LineageSpanName, attributes: Attributes, links: Link[], parent: SpanContext | undefined): SpanContext;
}
