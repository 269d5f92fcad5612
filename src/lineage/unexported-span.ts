/**
 * The span context of a lineage span made without the SDK: one nobody receives (no exporter, no
 * adopted TracerProvider), where the journal and the store name a flow by its trace and span ids
 * and that is all such a span is, and one for the export thread alone (tracing.ts), which gets it
 * whole from wire-span.ts. The SDK would be loaded for either (support/otel-sdk.ts). Flagged as
 * the default sampler (parentbased_always_on) and the evidence rule (sampler.ts) would flag it;
 * any other OTEL_TRACES_SAMPLER goes through the SDK.
 */
import { TraceFlags, type SpanContext } from '@opentelemetry/api';
import { randomText } from '../support/random-pool.js';

const randomHex = (bytes: number): string => randomText(bytes, 'hex');

/** `parent`: a valid parent span context, or undefined for a root span. */
export function unexportedSpan(parent: SpanContext | undefined, evidence: boolean): SpanContext {
  const sampled = evidence || parent === undefined || (parent.traceFlags & TraceFlags.SAMPLED) !== 0;
  return { traceId: parent?.traceId ?? randomHex(16), spanId: randomHex(8), traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE };
}
