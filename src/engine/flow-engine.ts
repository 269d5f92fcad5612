/**
 * The flow engine: the single entry point instrumentations call. Data moves one way:
 * instrumentation → provenance (context, sets, store) → policy (decide) → journal + lineage +
 * subscribers. Instrumentations never see policy, spans or hashing; they get a Decision and,
 * on deny, an error to surface in their API's own shape.
 *
 * Hot path: a flow repeated in the same context (same resource, same provenance, same policy
 * epoch) costs a few property compares; spans and journal records are made only the first time
 * a distinct flow happens in a context.
 */
import { diag, trace, context as otelContext, type Attributes, type Link, type SpanContext } from '@opentelemetry/api';
import type { ContentHashAlgorithm, LabelSpec, ResourceLabelRule, ResourceMatch } from '../config/types.js';
import { literalGlob } from '../config/glob.js';
import { ProvenanceDeniedError } from '../errors.js';
import { FlowDirection, type FlowContext, type FlowContexts } from '../provenance/context.js';
import type { Labels, LabelSchema } from '../provenance/labels.js';
import type { ProvenanceSet, ProvenanceSets } from '../provenance/provenance-set.js';
import type { Resource, ResourceRegistry } from '../provenance/resource.js';
import type { ProvenanceStore, StoredProvenance } from '../provenance/store.js';
import { ALLOW, type CompiledPolicy, type Decision } from '../policy/types.js';
import type { LineageSink, LineageSpanName } from '../lineage/sink.js';
import type { FlowEvent, FlowOp } from './events.js';
import { isInternal } from './internal.js';
import { RepeatedFlows } from './repeated-flows.js';
import type { Subscribers } from './subscribers.js';

/** Bound on per-resource memo entries; cleared whole when reached (cheap, and rare). */
const MEMO_LIMIT = 65_536;

/** Bound on sources listed in a span attribute; the journal keeps them all. */
const MAX_SPAN_SOURCES = 32;

export interface JournalSink {
  append(event: FlowEvent): void;
}

export interface PolicySource {
  readonly current: CompiledPolicy;
  /** Label a resource at run time, ahead of the config's `resources` (recompiles: new epoch). */
  prependResource(rule: ResourceLabelRule): void;
}

export interface FlowEngineParts {
  schema: LabelSchema;
  resources: ResourceRegistry;
  sets: ProvenanceSets;
  contexts: FlowContexts;
  /** Holder of the current compiled policy; swapped atomically on reload. */
  policy: PolicySource;
  subscribers: Subscribers;
  store?: ProvenanceStore | undefined;
  journal?: JournalSink | undefined;
  lineage?: LineageSink | undefined;
  contentHash?: ContentHashAlgorithm;
  /** Window over which identical flows from different contexts are summarised (0 = never; see repeated-flows.ts). */
  repeatWindowMs?: number;
  /** Computes `<alg>:<hex>` of content (provided by the journal module). */
  digest?: ((algorithm: ContentHashAlgorithm, data: Uint8Array | string) => string | undefined) | undefined;
  /** Maps an end-user id to what is recorded (HMAC pseudonym when configured). */
  recordUser?: ((user: string) => string) | undefined;
}

export interface FlowOptions {
  /** Semantic-convention attributes of the flow (file.path, server.address, url.full, ...). */
  attributes?: Attributes;
  /** The content, when at hand, for the journal's optional content digest. */
  content?: Uint8Array | string;
}

export interface ReadOptions extends FlowOptions {
  /** Provenance the resource carries beyond its own URI (e.g. verified incoming baggage). */
  provenance?: ProvenanceSet;
  /** Span of the write that produced this data elsewhere (a read links back to it). */
  linkTo?: SpanContext;
}

/** Application-level provenance (Tracer-style actions), see `provenant.record()`. */
export interface ApplicationEvent {
  action: string;
  inputs?: string[];
  outputs?: string[];
  user?: string;
  attributes?: Record<string, string | number | boolean>;
}

interface LastWrite {
  resource: Resource;
  data: ProvenanceSet;
  epoch: number;
  decision: Decision;
  /** Span of this flow, when this context spanned it (propagated as traceparent). */
  span?: SpanContext | undefined;
}

interface LastRead {
  resource: Resource;
  incoming: ProvenanceSet;
  before: ProvenanceSet;
  after: ProvenanceSet;
  epoch: number;
}

interface ContextMemo {
  lastRead?: LastRead;
  lastWrite?: LastWrite;
}

function memoOf(ctx: FlowContext): ContextMemo {
  return (ctx.engineMemo ??= {});
}

export class FlowEngine {
  readonly schema: LabelSchema;
  readonly resources: ResourceRegistry;
  readonly sets: ProvenanceSets;
  readonly contexts: FlowContexts;
  private readonly parts: FlowEngineParts;
  private readonly storedSets = new WeakMap<StoredProvenance, ProvenanceSet>();
  /** Per file resource: the provenance set id last merged into the store by this process. */
  private readonly merged = new Map<number, number>();
  private readonly repeats: RepeatedFlows | undefined;
  private readonly ownProvenanceMemo = new Map<number, { incoming: ProvenanceSet; labels: Labels; result: ProvenanceSet }>();

  constructor(parts: FlowEngineParts) {
    this.parts = parts;
    this.repeats = parts.repeatWindowMs ? new RepeatedFlows(parts.repeatWindowMs, (event) => parts.journal?.append(event)) : undefined;
    this.schema = parts.schema;
    this.resources = parts.resources;
    this.sets = parts.sets;
    this.contexts = parts.contexts;
  }

  /** Data flows from `resource` into the current context. */
  read(resource: Resource, bytes?: number, options?: ReadOptions): void {
    if (isInternal()) return;
    try {
      this.readInto(this.contexts.current(), resource, bytes, options);
    } catch (error) {
      diag.warn(`provenant: recording a read of ${resource.uri} failed; the read proceeds unrecorded`, error);
    }
  }

  /**
   * Decide a flow from the current context to `resource`, record it, and on allow persist the
   * file's new provenance before returning. Callers must not move a byte on `deny`.
   */
  authorizeWrite(resource: Resource, bytes?: number, options?: FlowOptions): Decision {
    if (isInternal()) return ALLOW;
    const ctx = this.contexts.current();
    const policy = this.parts.policy.current;
    const data = ctx.provenance;
    const memo = memoOf(ctx);
    const last = memo.lastWrite;
    if (last !== undefined && last.resource === resource && last.data === data && last.epoch === policy.epoch) return last.decision;
    const decision = this.decide(policy, data, resource);
    let span = last?.resource === resource ? last.span : undefined;
    try {
      if (ctx.firstTime(FlowDirection.Write, resource.id, data.id, policy.epoch)) {
        const spanContext = this.emit(
          ctx,
          decision.kind === 'deny' ? 'provenant.deny' : 'provenant.write',
          'write',
          resource,
          data,
          decision,
          bytes,
          options,
          ctx.readLinks,
        );
        span = spanContext ?? span;
        if (decision.kind !== 'deny') this.persist(resource, data, spanContext);
      } else if (decision.kind !== 'deny') {
        this.persist(resource, data, undefined);
      }
    } catch (error) {
      // Recording fails open (the decision stands); a policy fault already failed closed in decide().
      diag.warn(`provenant: recording a write to ${resource.uri} failed`, error);
    }
    memo.lastWrite = { resource, data, epoch: policy.epoch, decision, span };
    return decision;
  }

  /** Span of the current context's latest write to `resource` (the parent a callee's spans join). */
  writeSpan(resource: Resource): SpanContext | undefined {
    const ctx = this.contexts.current();
    const last = memoOf(ctx).lastWrite;
    return last?.resource === resource && last.span ? last.span : ctx.parentSpan;
  }

  /**
   * copyFile / cp / rename: provenance goes from file to file without a context. The copy is
   * still a flow and is checked (a secret file copied into a public folder is denied).
   */
  transfer(op: 'copy' | 'move', from: string, to: string): Decision {
    if (isInternal()) return ALLOW;
    const source = this.resources.file(from);
    const destination = this.resources.file(to);
    const policy = this.parts.policy.current;
    const data = this.ownProvenance(source, this.storedSetOf(source), policy);
    const decision = this.decide(policy, data, destination);
    try {
      const ctx = this.contexts.current();
      this.emit(
        ctx,
        decision.kind === 'deny' ? 'provenant.deny' : 'provenant.write',
        op,
        destination,
        data,
        decision,
        undefined,
        {
          attributes: { 'file.path': to, 'provenant.from': from },
        },
        [],
      );
      if (decision.kind !== 'deny' && this.parts.store) {
        if (op === 'move') this.parts.store.move(from, to);
        else this.parts.store.copy(from, to);
        if (this.storedSetOf(destination).id !== data.id) this.parts.store.merge(to, this.toStored(data, undefined));
        this.merged.delete(destination.id);
        this.merged.delete(source.id);
      }
    } catch (error) {
      diag.warn(`provenant: recording ${op} ${from} → ${to} failed`, error);
    }
    return decision;
  }

  /** unlink / rm: the file's provenance is retired (the journal keeps its history). */
  retire(path: string): void {
    if (isInternal()) return;
    try {
      const resource = this.resources.file(path);
      this.merged.delete(resource.id);
      if (this.parts.store?.get(path) === undefined) return;
      this.parts.store.retire(path);
      this.emit(
        this.contexts.current(),
        'provenant.write',
        'delete',
        resource,
        this.sets.empty,
        ALLOW,
        undefined,
        { attributes: { 'file.path': path } },
        [],
      );
    } catch (error) {
      diag.warn(`provenant: retiring the provenance of ${path} failed`, error);
    }
  }

  /** The error to surface for a denied flow, in the shape every API gets it. */
  deniedError(decision: Decision, resource: Resource): ProvenanceDeniedError {
    const labels = this.schema.toPublic(this.contexts.current().provenance.labels);
    return new ProvenanceDeniedError(decision.rule ?? 'policy', decision.reason ?? 'denied by policy', labels, resource.uri);
  }

  /** Application-level provenance: outputs derive from inputs (and from the current context). */
  recordApplicationEvent(event: ApplicationEvent): void {
    const ctx = this.contexts.current();
    const policy = this.parts.policy.current;
    let data = ctx.provenance;
    for (const input of event.inputs ?? []) {
      const resource = this.resources.parse(input);
      data = this.sets.union(data, this.ownProvenance(resource, this.storedSetOf(resource), policy));
    }
    const user = event.user ?? ctx.user;
    const attributes: Attributes = { 'provenant.action': event.action, ...(event.attributes ?? {}) };
    const outputs = event.outputs && event.outputs.length > 0 ? event.outputs : [];
    if (outputs.length === 0) {
      this.emit(
        ctx,
        'provenant.record',
        'record',
        this.resources.process(process.pid),
        data,
        ALLOW,
        undefined,
        { attributes },
        ctx.readLinks,
        event.action,
        user,
      );
      return;
    }
    for (const output of outputs) {
      const resource = this.resources.parse(output);
      const spanContext = this.emit(
        ctx,
        'provenant.record',
        'record',
        resource,
        data,
        ALLOW,
        undefined,
        { attributes },
        ctx.readLinks,
        event.action,
        user,
      );
      this.persist(resource, data, spanContext);
    }
    ctx.provenance = data;
  }

  /** `provenant.label()`: a run-time label for a path or URI, ahead of the config's entries. */
  labelResource(uriOrPath: string, labels: LabelSpec): void {
    const resource = this.resources.parse(uriOrPath);
    let match: ResourceMatch;
    if (resource.kind === 'file') match = { path: literalGlob(resource.path as string) };
    else if (resource.kind === 'service') match = { service: resource.service };
    else if (resource.host !== undefined && resource.port !== undefined) match = { host: resource.host, port: resource.port };
    else throw new RangeError(`cannot label ${uriOrPath}: only files, services and host:port resources take labels`);
    this.parts.policy.prependResource({ match, labels });
  }

  /** Write the summaries of repeated flows now (exit paths call this before closing the journal). */
  flushRepeats(): void {
    this.repeats?.flush();
  }

  private readInto(ctx: FlowContext, resource: Resource, bytes: number | undefined, options: ReadOptions | undefined): void {
    const policy = this.parts.policy.current;
    let incoming: ProvenanceSet;
    let linkTo = options?.linkTo;
    if (options?.provenance) {
      incoming = options.provenance;
    } else if (resource.kind === 'file' && this.parts.store) {
      const stored = this.parts.store.get(resource.path as string);
      incoming = stored ? this.fromStored(stored) : this.sets.empty;
      linkTo ??= stored?.writeSpan;
    } else {
      incoming = this.sets.empty;
    }
    const before = ctx.provenance;
    const memo = memoOf(ctx);
    const last = memo.lastRead;
    if (
      last !== undefined &&
      last.resource === resource &&
      last.incoming === incoming &&
      last.before === before &&
      last.epoch === policy.epoch
    ) {
      ctx.provenance = last.after;
      return;
    }
    const fromResource = this.ownProvenance(resource, incoming, policy);
    const after = this.sets.union(before, fromResource);
    ctx.provenance = after;
    memo.lastRead = { resource, incoming, before, after, epoch: policy.epoch };
    if (ctx.firstTime(FlowDirection.Read, resource.id, fromResource.id, policy.epoch)) {
      const links: Link[] = linkTo ? [{ context: linkTo }] : [];
      const spanContext = this.emit(ctx, 'provenant.read', 'read', resource, fromResource, undefined, bytes, options, links);
      if (spanContext) ctx.addReadLink(spanContext);
    }
  }

  /** `incoming` plus the resource itself with its labels, memoised per resource (the same peer or file is read again and again). */
  private ownProvenance(resource: Resource, incoming: ProvenanceSet, policy: CompiledPolicy): ProvenanceSet {
    const labels = policy.labelsOf(resource);
    const memo = this.ownProvenanceMemo.get(resource.id);
    if (memo !== undefined && memo.incoming === incoming && memo.labels === labels) return memo.result;
    const result = this.sets.withSource(incoming, resource.uri, labels);
    if (this.ownProvenanceMemo.size >= MEMO_LIMIT) this.ownProvenanceMemo.clear();
    this.ownProvenanceMemo.set(resource.id, { incoming, labels, result });
    return result;
  }

  private decide(policy: CompiledPolicy, data: ProvenanceSet, resource: Resource): Decision {
    try {
      return policy.decide(data, resource);
    } catch (error) {
      diag.error(`provenant: policy fault deciding a flow to ${resource.uri}`, error);
      const reason = `the policy engine failed (${error instanceof Error ? error.message : String(error)}); failing closed`;
      return policy.mode === 'enforce'
        ? { kind: 'deny', rule: 'policy-fault', reason }
        : { kind: 'violation', rule: 'policy-fault', reason };
    }
  }

  private persist(resource: Resource, data: ProvenanceSet, writeSpan: SpanContext | undefined): void {
    const store = this.parts.store;
    if (!store || resource.kind !== 'file' || data.id === 0) return;
    if (this.merged.get(resource.id) === data.id) return;
    store.merge(resource.path as string, this.toStored(data, writeSpan));
    this.merged.set(resource.id, data.id);
  }

  private storedSetOf(resource: Resource): ProvenanceSet {
    if (resource.kind !== 'file' || !this.parts.store) return this.sets.empty;
    const stored = this.parts.store.get(resource.path as string);
    return stored ? this.fromStored(stored) : this.sets.empty;
  }

  private fromStored(stored: StoredProvenance): ProvenanceSet {
    let set = this.storedSets.get(stored);
    if (set === undefined) {
      set = this.sets.of(stored.sources, this.schema.fromPublic(stored.labels, this.schema.neutral));
      this.storedSets.set(stored, set);
    }
    return set;
  }

  private toStored(data: ProvenanceSet, writeSpan: SpanContext | undefined): StoredProvenance {
    const stored: StoredProvenance = { sources: [...data.sources], labels: this.schema.toPublic(data.labels) };
    if (writeSpan) stored.writeSpan = writeSpan;
    return stored;
  }

  private emit(
    ctx: FlowContext,
    name: LineageSpanName,
    op: FlowOp,
    resource: Resource,
    data: ProvenanceSet,
    decision: Decision | undefined,
    bytes: number | undefined,
    options: FlowOptions | undefined,
    links: readonly (Link | SpanContext)[],
    action?: string,
    user: string | undefined = ctx.user,
  ): SpanContext | undefined {
    const recordedUser = user !== undefined && this.parts.recordUser ? this.parts.recordUser(user) : user;
    const now = Date.now();
    const repeats = decision?.kind === 'deny' || op === 'record' ? undefined : this.repeats;
    const epoch = this.parts.policy.current.epoch;
    const decisionKind = decision?.kind ?? '';
    if (repeats !== undefined) {
      const first = repeats.repeatOf(op, resource.id, data.id, epoch, decisionKind, recordedUser, now);
      if (first !== undefined) {
        if (this.parts.subscribers.active) this.parts.subscribers.publish({ ...first.event, time: now });
        // A repeated read is linked through the first occurrence's span (the same flow). A repeated
        // write returns none, so trace context propagated downstream stays this request's own.
        return op === 'read' ? first.span : undefined;
      }
    }
    const labels = this.schema.toPublic(data.labels);
    let spanContext: SpanContext | undefined;
    if (this.parts.lineage) {
      const attributes: Attributes = {
        'provenant.resource': resource.uri,
        'provenant.direction': op === 'read' ? 'in' : 'out',
        'provenant.op': op,
        'provenant.confidentiality': labels.confidentiality,
        'provenant.integrity': labels.integrity,
        'provenant.tags': labels.tags,
        'provenant.labels': this.schema.format(data.labels),
        'provenant.sources': data.sources.length > MAX_SPAN_SOURCES ? data.sources.slice(0, MAX_SPAN_SOURCES) : [...data.sources],
        ...options?.attributes,
      };
      if (labels.locations.length > 0) attributes['provenant.locations'] = labels.locations;
      if (decision) attributes['provenant.decision'] = decision.kind;
      if (decision?.rule) attributes['provenant.rule'] = decision.rule;
      if (decision?.reason && decision.kind !== 'allow') attributes['provenant.reason'] = decision.reason;
      if (bytes !== undefined) attributes['provenant.bytes'] = bytes;
      // Semantic conventions: a pseudonymised user is `enduser.pseudo.id`, never `enduser.id`.
      if (recordedUser !== undefined) attributes[this.parts.recordUser ? 'enduser.pseudo.id' : 'enduser.id'] = recordedUser;
      const spanLinks: Link[] = links.map((link) => ('context' in link ? link : { context: link }));
      spanContext = this.parts.lineage.emit(name, attributes, spanLinks, this.parentFor(ctx));
      if (ctx.kind !== 'process' && ctx.parentSpan === undefined) ctx.parentSpan = spanContext;
    }
    const event: FlowEvent = {
      time: now,
      op,
      resource: resource.uri,
      sources: [...data.sources],
      labels,
    };
    if (decision) event.decision = decision.kind;
    if (decision?.rule) event.rule = decision.rule;
    if (decision?.reason && decision.kind !== 'allow') event.reason = decision.reason;
    event.policy = this.parts.policy.current.digest;
    if (bytes !== undefined) event.bytes = bytes;
    if (recordedUser !== undefined) event.user = recordedUser;
    if (action !== undefined) event.action = action;
    if (spanContext) {
      event.traceId = spanContext.traceId;
      event.spanId = spanContext.spanId;
    }
    const algorithm = this.parts.contentHash;
    if (options?.content !== undefined && algorithm && algorithm !== 'none' && this.parts.digest) {
      const digest = this.parts.digest(algorithm, options.content);
      if (digest) event.contentDigest = digest;
    }
    if (options?.attributes) event.attributes = flatAttributes(options.attributes);
    this.parts.journal?.append(event);
    this.parts.subscribers.publish(event);
    repeats?.remember(
      { op, resourceId: resource.id, setId: data.id, epoch, decision: decisionKind, user: recordedUser },
      event,
      spanContext,
    );
    return spanContext;
  }

  private parentFor(ctx: FlowContext): SpanContext | undefined {
    if (ctx.parentSpan) return ctx.parentSpan;
    // An active span from the app's own OpenTelemetry instrumentation, when there is one.
    return trace.getSpanContext(otelContext.active());
  }
}

function flatAttributes(attributes: Attributes): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[key] = value;
    else if (Array.isArray(value)) out[key] = value.join(',');
  }
  return out;
}
