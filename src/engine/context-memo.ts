/**
 * The engine's memo of a context's last read and last write: a flow repeated in the same context
 * (same resource, same provenance, same policy epoch) costs a few compares and no allocation.
 * Kept on the context itself (see `FlowContext.engineMemo`).
 */
import type { SpanContext } from '@opentelemetry/api';
import type { FlowContext } from '../provenance/context.js';
import type { ProvenanceSet } from '../provenance/provenance-set.js';
import type { Resource } from '../provenance/resource.js';
import type { Decision } from '../policy/types.js';

export interface LastWrite {
  readonly resource: Resource;
  readonly data: ProvenanceSet;
  readonly epoch: number;
  readonly decision: Decision;
  /** Span of this flow, when this context spanned it (propagated as traceparent). */
  readonly span: SpanContext | undefined;
}

export interface LastRead {
  readonly resource: Resource;
  readonly incoming: ProvenanceSet;
  readonly before: ProvenanceSet;
  readonly after: ProvenanceSet;
  readonly epoch: number;
  readonly vouched: boolean;
}

export interface ContextMemo {
  lastRead?: LastRead;
  lastWrite?: LastWrite;
}

export function memoOf(ctx: FlowContext): ContextMemo {
  return (ctx.engineMemo ??= {});
}
