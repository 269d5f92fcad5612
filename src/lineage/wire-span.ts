/**
 * A finished span in a structured-clone-safe form, for handing spans from the app's thread to
 * the export worker. Only what OTLP carries is kept.
 */
import { SpanKind, SpanStatusCode, type Attributes, type HrTime, type Link, type SpanContext, type SpanStatus } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';

export interface WireSpan {
  name: string;
  kind: number;
  context: SpanContext;
  parent?: SpanContext;
  start: HrTime;
  end: HrTime;
  duration: HrTime;
  attributes: Attributes;
  links: Link[];
  events: { name: string; time: HrTime; attributes?: Attributes }[];
  status: SpanStatus;
  scope: { name: string; version?: string };
}

export function toWireSpan(span: ReadableSpan): WireSpan {
  const { traceId, spanId, traceFlags, isRemote } = span.spanContext();
  const wire: WireSpan = {
    name: span.name,
    kind: span.kind,
    context: { traceId, spanId, traceFlags, ...(isRemote === undefined ? {} : { isRemote }) },
    start: span.startTime,
    end: span.endTime,
    duration: span.duration,
    attributes: span.attributes,
    links: span.links.map((link) => ({
      context: { traceId: link.context.traceId, spanId: link.context.spanId, traceFlags: link.context.traceFlags },
      ...(link.attributes ? { attributes: link.attributes } : {}),
    })),
    events: span.events.map((event) => ({
      name: event.name,
      time: event.time,
      ...(event.attributes ? { attributes: event.attributes } : {}),
    })),
    status: span.status,
    scope: {
      name: span.instrumentationScope.name,
      ...(span.instrumentationScope.version ? { version: span.instrumentationScope.version } : {}),
    },
  };
  if (span.parentSpanContext) {
    const parent = span.parentSpanContext;
    wire.parent = {
      traceId: parent.traceId,
      spanId: parent.spanId,
      traceFlags: parent.traceFlags,
      ...(parent.isRemote === undefined ? {} : { isRemote: parent.isRemote }),
    };
  }
  return wire;
}

/**
 * A lineage span made and ended now, as the SDK's tracer would export it (kind INTERNAL, status
 * unset, attributes without empty values), for the export thread when the SDK is not loaded.
 */
export function finishedSpan(
  name: string,
  context: SpanContext,
  parent: SpanContext | undefined,
  attributes: Attributes,
  links: Link[],
  version: string,
): WireSpan {
  const time = now();
  const kept: Attributes = {};
  for (const key in attributes) {
    const value = attributes[key];
    if (value !== undefined && value !== null) kept[key] = value;
  }
  return {
    name,
    kind: SpanKind.INTERNAL,
    context,
    ...(parent ? { parent } : {}),
    start: time,
    end: time,
    duration: [0, 0],
    attributes: kept,
    links: links.map((link) => ({
      context: { traceId: link.context.traceId, spanId: link.context.spanId, traceFlags: link.context.traceFlags },
      ...(link.attributes ? { attributes: link.attributes } : {}),
    })),
    events: [],
    status: { code: SpanStatusCode.UNSET },
    scope: { name: 'provenant', version },
  };
}

/** Wall-clock time as the SDK takes it: the time origin plus the monotonic clock. */
function now(): HrTime {
  const ms = performance.timeOrigin + performance.now();
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.min(999_999_999, Math.round((ms - seconds * 1000) * 1e6))];
}

export type ToWorker =
  | { type: 'spans'; spans: WireSpan[] }
  /** Export everything received so far, then set flag[0] = 1 and notify. */
  | { type: 'flush'; flag: Int32Array };

/** The worker could not make an exporter: nothing will be exported (the reason is for the app's report). */
export type FromWorker = { type: 'broken'; reason: string };
