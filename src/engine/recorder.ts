/**
 * The recorder: turns one distinct flow into its lineage span, its journal record and its
 * in-process event, all from one `FlowRecord`. Repeats of a flow across contexts within the
 * summary window are counted instead (repeated-flows.ts). Called only for flows a context has
 * not recorded yet, so the per-request hot path rarely reaches it.
 */
import { trace, context as otelContext, type Attributes, type Link, type SpanContext } from '@opentelemetry/api';
import type { ContentHashAlgorithm } from '../config/types.js';
import type { FlowContext } from '../provenance/context.js';
import type { LabelSchema } from '../provenance/labels.js';
import type { ProvenanceSet } from '../provenance/provenance-set.js';
import type { Resource } from '../provenance/resource.js';
import type { Decision } from '../policy/types.js';
import type { FlowOp, FlowRecord } from './flow-record.js';
import { RepeatedFlows } from './repeated-flows.js';
import type { JournalSink, LineageSink, LineageSpanName } from './sinks.js';
import type { Subscribers } from './subscribers.js';

/** Bound on sources listed in a span attribute; the journal keeps them all. */
const MAX_SPAN_SOURCES = 32;

export interface FlowOptions {
  /**
   * Semantic-convention attributes of the flow (file.path, server.address, url.full, ...); a
   * function when making them costs (a URL to redact), called only if the flow is recorded, not
   * for a repeat of a flow already recorded.
   */
  attributes?: Attributes | (() => Attributes);
  /** The content, when at hand, for the journal's optional content digest. */
  content?: Uint8Array | string;
}

/** One flow to record: what happened, in which context, and what it was decided. */
export interface FlowToRecord {
  readonly ctx: FlowContext;
  readonly span: LineageSpanName;
  readonly op: FlowOp;
  readonly resource: Resource;
  readonly data: ProvenanceSet;
  /** Absent for reads (nothing is decided). */
  readonly decision?: Decision | undefined;
  readonly bytes?: number | undefined;
  readonly options?: FlowOptions | undefined;
  readonly links: readonly (Link | SpanContext)[];
  /** Application-level action (`provenant.record()`). */
  readonly action?: string | undefined;
  /** End user, when it is not the context's own. */
  readonly user?: string | undefined;
  /** Attestations and verdicts: the fact, verdict and evidence fields of the record. */
  readonly claims?: Pick<FlowRecord, 'fact' | 'verdict' | 'evidence'> | undefined;
}

export interface RecorderParts {
  schema: LabelSchema;
  subscribers: Subscribers;
  /** The policy epoch in force (part of what makes two flows the same). */
  epoch: () => number;
  /** Digest of the policy in force, so a recorded decision can be replayed (`policy check --at`). */
  policyDigest: () => string;
  journal?: JournalSink | undefined;
  lineage?: LineageSink | undefined;
  contentHash?: ContentHashAlgorithm | undefined;
  /** Window over which identical flows from different contexts are summarised (0 = never). */
  repeatWindowMs?: number | undefined;
  /** Computes `<alg>:<hex>` of content (provided by the journal module). */
  digest?: ((algorithm: ContentHashAlgorithm, data: Uint8Array | string) => string | undefined) | undefined;
  /** Maps an end-user id to what is recorded (HMAC pseudonym when configured). */
  recordUser?: ((user: string) => string) | undefined;
}

export class FlowRecorder {
  private readonly repeats: RepeatedFlows | undefined;

  constructor(private readonly parts: RecorderParts) {
    this.repeats = parts.repeatWindowMs ? new RepeatedFlows(parts.repeatWindowMs, (record) => parts.journal?.append(record)) : undefined;
  }

  /** Span, journal and subscribers for one flow; returns the span's context when one was made. */
  record(flow: FlowToRecord): SpanContext | undefined {
    const { ctx, op, resource, data, decision, bytes, options } = flow;
    const { parts } = this;
    const user = flow.user ?? ctx.user;
    const recordedUser = user !== undefined && parts.recordUser ? parts.recordUser(user) : user;
    const now = Date.now();
    // Denials, application records, attestations and verdicts are each their own record, never summarised.
    const repeats = decision?.kind === 'deny' || op === 'record' || op === 'attest' || op === 'monitor' ? undefined : this.repeats;
    const epoch = parts.epoch();
    const decisionKind = decision?.kind ?? '';
    if (repeats !== undefined) {
      const first = repeats.repeatOf(op, resource.id, data.id, epoch, decisionKind, recordedUser, now);
      if (first !== undefined) {
        if (parts.subscribers.active) parts.subscribers.publish({ ...first.record, time: now });
        // A repeated read is linked through the first occurrence's span (the same flow). A repeated
        // write returns none, so trace context propagated downstream stays this request's own.
        return op === 'read' ? first.span : undefined;
      }
    }
    const labels = parts.schema.toPublic(data.labels);
    const attributes = typeof options?.attributes === 'function' ? options.attributes() : options?.attributes;
    const spanContext = parts.lineage ? this.span(parts.lineage, flow, recordedUser, attributes) : undefined;
    const record: FlowRecord = { time: now, op, resource: resource.uri, sources: [...data.sources], labels };
    if (decision) record.decision = decision.kind;
    if (decision?.rule) record.rule = decision.rule;
    if (decision?.reason && decision.kind !== 'allow') record.reason = decision.reason;
    record.policy = parts.policyDigest();
    if (bytes !== undefined) record.bytes = bytes;
    const algorithm = parts.contentHash;
    if (options?.content !== undefined && algorithm && algorithm !== 'none' && parts.digest) {
      const digest = parts.digest(algorithm, options.content);
      if (digest) record.contentDigest = digest;
    }
    if (recordedUser !== undefined) record.user = recordedUser;
    if (spanContext) {
      record.traceId = spanContext.traceId;
      record.spanId = spanContext.spanId;
    }
    if (flow.action !== undefined) record.action = flow.action;
    if (attributes) record.attributes = flatAttributes(attributes);
    if (flow.claims) Object.assign(record, flow.claims);
    parts.journal?.append(record);
    parts.subscribers.publish(record);
    repeats?.remember(
      { op, resourceId: resource.id, setId: data.id, epoch, decision: decisionKind, user: recordedUser },
      record,
      spanContext,
    );
    return spanContext;
  }

  /** Write the summaries of repeated flows now (exit paths call this before closing the journal). */
  flushRepeats(): void {
    this.repeats?.flush();
  }

  private span(
    lineage: LineageSink,
    flow: FlowToRecord,
    recordedUser: string | undefined,
    flowAttributes: Attributes | undefined,
  ): SpanContext {
    const { ctx, op, resource, data, decision, bytes } = flow;
    const labels = this.parts.schema.toPublic(data.labels);
    const attributes: Attributes = {
      'provenant.resource': resource.uri,
      'provenant.direction': op === 'read' ? 'in' : 'out',
      'provenant.op': op,
      'provenant.confidentiality': labels.confidentiality,
      'provenant.integrity': labels.integrity,
      'provenant.tags': labels.tags,
      'provenant.labels': this.parts.schema.format(data.labels),
      'provenant.sources': data.sources.length > MAX_SPAN_SOURCES ? data.sources.slice(0, MAX_SPAN_SOURCES) : [...data.sources],
      ...flowAttributes,
    };
    if (labels.locations.length > 0) attributes['provenant.locations'] = labels.locations;
    if (decision) attributes['provenant.decision'] = decision.kind;
    if (decision?.rule) attributes['provenant.rule'] = decision.rule;
    if (decision?.reason && decision.kind !== 'allow') attributes['provenant.reason'] = decision.reason;
    if (bytes !== undefined) attributes['provenant.bytes'] = bytes;
    // Semantic conventions: a pseudonymised user is `enduser.pseudo.id`, never `enduser.id`.
    if (recordedUser !== undefined) attributes[this.parts.recordUser ? 'enduser.pseudo.id' : 'enduser.id'] = recordedUser;
    const links: Link[] = flow.links.map((link) => ('context' in link ? link : { context: link }));
    const spanContext = lineage.emit(flow.span, attributes, links, parentFor(ctx));
    if (ctx.kind !== 'process' && ctx.parentSpan === undefined) ctx.parentSpan = spanContext;
    return spanContext;
  }
}

function parentFor(ctx: FlowContext): SpanContext | undefined {
  if (ctx.parentSpan) return ctx.parentSpan;
  // An active span from the app's own OpenTelemetry instrumentation, when there is one.
  return trace.getSpanContext(otelContext.active());
}

function flatAttributes(attributes: Attributes): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[key] = value;
    else if (Array.isArray(value)) out[key] = value.join(',');
  }
  return out;
}
