/** W3C Trace Context `traceparent` (version 00), so a callee's lineage spans join the caller's trace. */
import type { SpanContext } from '@opentelemetry/api';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const INVALID_TRACE = '0'.repeat(32);
const INVALID_SPAN = '0'.repeat(16);

export function parseTraceparent(header: string | string[] | undefined): SpanContext | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  const match = TRACEPARENT.exec(value.trim());
  if (!match) return undefined;
  const [, traceId, spanId, flags] = match as unknown as [string, string, string, string];
  if (traceId === INVALID_TRACE || spanId === INVALID_SPAN) return undefined;
  return { traceId, spanId, traceFlags: Number.parseInt(flags, 16), isRemote: true };
}

export function formatTraceparent(span: SpanContext): string {
  return `00-${span.traceId}-${span.spanId}-${(span.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** `<trace-id>-<span-id>`, the compact form carried in `provenant.ws`. */
export function spanReference(span: SpanContext): string {
  return `${span.traceId}-${span.spanId}`;
}

export function parseSpanReference(reference: string | undefined): SpanContext | undefined {
  if (reference === undefined) return undefined;
  const match = /^([0-9a-f]{32})-([0-9a-f]{16})$/.exec(reference);
  if (!match) return undefined;
  return { traceId: match[1], spanId: match[2], traceFlags: 1, isRemote: true };
}
