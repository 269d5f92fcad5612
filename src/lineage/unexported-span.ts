/**
 * The span context of a lineage span made without the SDK: one nobody receives (no exporter, no
 * adopted TracerProvider), where the journal and the store name a flow by its trace and span ids
 * and that is all such a span is, and one for the export thread alone (tracing.ts), which gets it
 * whole from wire-span.ts. The SDK would be loaded for either (support/otel-sdk.ts). Flagged as
 * the default sampler (parentbased_always_on) and the evidence rule (sampler.ts) would flag it;
 * any other OTEL_TRACES_SAMPLER goes through the SDK.
 */
import { randomFillSync } from 'node:crypto';
import { TraceFlags, type SpanContext } from '@opentelemetry/api';

/** Random bytes drawn in batches: one fill per ~170 spans instead of one per id. */
const pool = Buffer.allocUnsafe(4096);
let used = pool.length;

function randomHex(bytes: number): string {
  if (used + bytes > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const hex = pool.toString('hex', used, used + bytes);
  used += bytes;
  return hex;
}

/** `parent`: a valid parent span context, or undefined for a root span. */
export function unexportedSpan(parent: SpanContext | undefined, evidence: boolean): SpanContext {
  const sampled = evidence || parent === undefined || (parent.traceFlags & TraceFlags.SAMPLED) !== 0;
  return { traceId: parent?.traceId ?? randomHex(16), spanId: randomHex(8), traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE };
}
