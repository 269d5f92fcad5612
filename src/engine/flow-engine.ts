/**
 * The flow engine: the hub instrumentations call. Data moves one way: instrumentation → engine →
 * provenance (contexts, sets, store) and policy (decide) → sinks (journal, lineage, subscribers,
 * through the interfaces in sinks.ts). Instrumentations never see policy, spans or hashing; they
 * get a Decision and, on deny, an error to surface in their API's own shape.
 *
 * The parts: decisions.ts (policy call, fail closed), context-memo.ts (a flow repeated in one
 * context costs a few compares), own-provenance.ts (what a read brings in), file-provenance.ts
 * (the node-local store), recorder.ts (one FlowRecord to every sink), runtime-labels.ts (the
 * `label()` API), application-events.ts (the `record()` API).
 */
import { diag, type Link, type SpanContext } from '@opentelemetry/api';
import type { LabelSpec } from '../config/types.js';
import { ProvenanceDeniedError } from '../errors.js';
import { FlowDirection, type FlowContext, type FlowContexts } from '../provenance/context.js';
import type { LabelSchema } from '../provenance/labels.js';
import type { ProvenanceSet, ProvenanceSets } from '../provenance/provenance-set.js';
import type { Resource, ResourceRegistry } from '../provenance/resource.js';
import type { ProvenanceStore } from '../provenance/store.js';
import { ALLOW, type CompiledPolicy, type Decision } from '../policy/types.js';
import type { ResourceLabelRule } from '../config/types.js';
import { isInternal } from '../support/reentrancy.js';
import { recordApplicationEvent, type ApplicationEvent } from './application-events.js';
import { Attestations, type AttestationParts } from './attestations.js';
import { memoOf } from './context-memo.js';
import { decideFlow } from './decisions.js';
import { FileProvenance } from './file-provenance.js';
import { OwnProvenance } from './own-provenance.js';
import { FlowRecorder, type FlowOptions, type RecorderParts } from './recorder.js';
import { runtimeLabelRule } from './runtime-labels.js';

export type { FlowOptions } from './recorder.js';

export interface PolicySource {
  readonly current: CompiledPolicy;
  /** Label a resource at run time, ahead of the config's `resources` (recompiles: new epoch). */
  prependResource(rule: ResourceLabelRule): void;
}

export interface FlowEngineParts extends Omit<RecorderParts, 'epoch' | 'policyDigest'> {
  schema: LabelSchema;
  resources: ResourceRegistry;
  sets: ProvenanceSets;
  contexts: FlowContexts;
  /** Holder of the current compiled policy; swapped atomically on reload. */
  policy: PolicySource;
  store?: ProvenanceStore | undefined;
  /** Facts, signing and the compiled monitors (attestations.ts); the engine adds recorder, contexts and mode. */
  monitoring: Omit<AttestationParts, 'recorder' | 'contexts' | 'resources' | 'mode'>;
  /** Config `api.label`: app code may label resources at run time (default true). */
  runtimeLabels?: boolean;
}

/** What `fixedFlow` records instead of asking the policy. */
export type FixedOutcome = { kind: 'inherited' } | { kind: 'deny'; rule: string; reason: string };

const INHERITED: Decision = Object.freeze({ kind: 'allow', rule: 'inherited' });

export interface ReadOptions extends FlowOptions {
  /** Provenance the resource carries beyond its own URI (e.g. verified incoming baggage). */
  provenance?: ProvenanceSet;
  /** Span of the write that produced this data elsewhere (a read links back to it). */
  linkTo?: SpanContext;
}

export class FlowEngine {
  readonly schema: LabelSchema;
  readonly resources: ResourceRegistry;
  readonly sets: ProvenanceSets;
  readonly contexts: FlowContexts;
  /** `attest()`, evidence and the monitors' verdicts. */
  readonly attestations: Attestations;
  private readonly policy: PolicySource;
  private readonly files: FileProvenance;
  private readonly own: OwnProvenance;
  private readonly recorder: FlowRecorder;
  private readonly runtimeLabels: boolean;

  constructor(parts: FlowEngineParts) {
    this.schema = parts.schema;
    this.resources = parts.resources;
    this.sets = parts.sets;
    this.contexts = parts.contexts;
    this.policy = parts.policy;
    this.files = new FileProvenance(parts.sets, parts.schema, parts.store);
    this.own = new OwnProvenance(parts.sets);
    this.recorder = new FlowRecorder({
      ...parts,
      epoch: () => parts.policy.current.epoch,
      policyDigest: () => parts.policy.current.digest,
    });
    this.attestations = new Attestations({
      ...parts.monitoring,
      recorder: this.recorder,
      contexts: parts.contexts,
      resources: parts.resources,
      mode: () => parts.policy.current.mode,
    });
    this.runtimeLabels = parts.runtimeLabels ?? true;
  }

  /** The policy epoch: a memo of a decision holds while the context's provenance and this are unchanged. */
  get policyEpoch(): number {
    return this.policy.current.epoch;
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
    const policy = this.policy.current;
    const data = ctx.provenance;
    const memo = memoOf(ctx);
    const last = memo.lastWrite;
    if (last !== undefined && last.resource === resource && last.data === data && last.epoch === policy.epoch) return last.decision;
    const decision = decideFlow(policy, data, resource);
    let span = last?.resource === resource ? last.span : undefined;
    try {
      if (ctx.firstTime(FlowDirection.Write, resource.id, data.id, policy.epoch)) {
        const spanContext = this.recorder.record({
          ctx,
          span: decision.kind === 'deny' ? 'provenant.deny' : 'provenant.write',
          op: 'write',
          resource,
          data,
          decision,
          bytes,
          options,
          links: ctx.readLinks,
        });
        span = spanContext ?? span;
        if (decision.kind !== 'deny') this.files.persist(resource, data, spanContext);
      } else if (decision.kind !== 'deny') {
        this.files.persist(resource, data, undefined);
      }
    } catch (error) {
      // Recording fails open (the decision stands); a policy fault already failed closed in decideFlow().
      diag.warn(`provenant: recording a write to ${resource.uri} failed`, error);
    }
    memo.lastWrite = { resource, data, epoch: policy.epoch, decision, span };
    return decision;
  }

  /**
   * A flow the policy does not decide: `inherited` (data handed to a child that carries its labels
   * on, recorded and allowed) or a fixed denial (`self-protection`: writes to provenant's own
   * config, keys and state, whatever the policy says). Returns the error to surface on a denial.
   */
  fixedFlow(resource: Resource, outcome: FixedOutcome, bytes?: number, options?: FlowOptions): ProvenanceDeniedError | undefined {
    if (isInternal()) return undefined;
    const ctx = this.contexts.current();
    const decision: Decision =
      outcome.kind === 'inherited' ? INHERITED : Object.freeze({ kind: 'deny', rule: outcome.rule, reason: outcome.reason });
    // An inherited flow repeated in one context (a worker's every message) is recorded once.
    if (decision === INHERITED && !ctx.firstTime(FlowDirection.Write, resource.id, ctx.provenance.id, this.policy.current.epoch))
      return undefined;
    try {
      this.recorder.record({
        ctx,
        span: decision.kind === 'deny' ? 'provenant.deny' : 'provenant.write',
        op: 'write',
        resource,
        data: ctx.provenance,
        decision,
        bytes,
        options,
        links: ctx.readLinks,
      });
    } catch (error) {
      diag.warn(`provenant: recording a flow to ${resource.uri} failed`, error);
    }
    return decision.kind === 'deny' ? this.deniedError(decision, resource) : undefined;
  }

  /** What the policy says about the current context's data going to `resource`, without recording anything. */
  decide(resource: Resource): Decision {
    if (isInternal()) return ALLOW;
    return decideFlow(this.policy.current, this.contexts.current().provenance, resource);
  }

  /** Span of the current context's latest write to `resource` (the parent a callee's spans join). */
  writeSpan(resource: Resource): SpanContext | undefined {
    const ctx = this.contexts.current();
    const last = memoOf(ctx).lastWrite;
    return last?.resource === resource && last.span ? last.span : ctx.parentSpan;
  }

  /**
   * copyFile / cp / rename: provenance goes from file to file without a context. The copy is
   * still a flow and is checked (a secret file copied into a public folder is denied); a denial
   * is returned as the error to surface, carrying the copied file's labels.
   */
  transfer(op: 'copy' | 'move', from: string, to: string): ProvenanceDeniedError | undefined {
    if (isInternal()) return undefined;
    const source = this.resources.file(from);
    const destination = this.resources.file(to);
    const policy = this.policy.current;
    const data = this.own.of(source, this.files.provenanceOf(source), policy);
    const decision = decideFlow(policy, data, destination);
    try {
      this.recorder.record({
        ctx: this.contexts.current(),
        span: decision.kind === 'deny' ? 'provenant.deny' : 'provenant.write',
        op,
        resource: destination,
        data,
        decision,
        options: { attributes: { 'file.path': to, 'provenant.from': from } },
        links: [],
      });
      if (decision.kind !== 'deny') this.files.transfer(op, source, destination, data);
    } catch (error) {
      diag.warn(`provenant: recording ${op} ${from} → ${to} failed`, error);
    }
    return decision.kind === 'deny' ? this.deniedError(decision, destination, data) : undefined;
  }

  /** unlink / rm: the file's provenance is retired (the journal keeps its history). */
  retire(path: string): void {
    if (isInternal()) return;
    try {
      const resource = this.resources.file(path);
      if (!this.files.retire(resource)) return;
      this.recorder.record({
        ctx: this.contexts.current(),
        span: 'provenant.write',
        op: 'delete',
        resource,
        data: this.sets.empty,
        decision: ALLOW,
        options: { attributes: { 'file.path': path } },
        links: [],
      });
    } catch (error) {
      diag.warn(`provenant: retiring the provenance of ${path} failed`, error);
    }
  }

  /** The error to surface for a denied flow of `data` (default: the current context's), in the shape every API gets it. */
  deniedError(decision: Decision, resource: Resource, data: ProvenanceSet = this.contexts.current().provenance): ProvenanceDeniedError {
    const labels = this.schema.toPublic(data.labels);
    return new ProvenanceDeniedError(decision.rule ?? 'policy', decision.reason ?? 'denied by policy', labels, resource.uri);
  }

  /** Application-level provenance: outputs derive from inputs (and from the current context). */
  recordApplicationEvent(event: ApplicationEvent): void {
    recordApplicationEvent(event, {
      ctx: this.contexts.current(),
      policy: this.policy.current,
      resources: this.resources,
      sets: this.sets,
      own: this.own,
      files: this.files,
      recorder: this.recorder,
    });
  }

  /** `provenant.label()`: a run-time label for a path or URI, ahead of the config's entries. */
  labelResource(uriOrPath: string, labels: LabelSpec): void {
    if (!this.runtimeLabels) throw this.apiDenied('label');
    this.policy.prependResource(runtimeLabelRule(this.resources.parse(uriOrPath), labels));
  }

  /** An API call the config switched off (`api.label`, `api.shutdown`): recorded, and the error to surface. */
  apiDenied(call: 'label' | 'shutdown'): ProvenanceDeniedError {
    const resource = this.resources.process(process.pid);
    const outcome = {
      kind: 'deny',
      rule: 'self-protection',
      reason: `provenant.${call}() is switched off by the config (api.${call}: false): app code may not weaken enforcement`,
    } as const;
    return this.fixedFlow(resource, outcome) ?? this.deniedError(outcome, resource);
  }

  /** Write the summaries of repeated flows now (exit paths call this before closing the journal). */
  flushRepeats(): void {
    this.recorder.flushRepeats();
  }

  private readInto(ctx: FlowContext, resource: Resource, bytes: number | undefined, options: ReadOptions | undefined): void {
    const policy = this.policy.current;
    let incoming: ProvenanceSet;
    let linkTo = options?.linkTo;
    if (options?.provenance) {
      incoming = options.provenance;
    } else {
      const file = this.files.stateOf(resource);
      incoming = file.provenance;
      linkTo ??= file.writeSpan;
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
    const fromResource = this.own.of(resource, incoming, policy);
    const after = this.sets.union(before, fromResource);
    ctx.provenance = after;
    memo.lastRead = { resource, incoming, before, after, epoch: policy.epoch };
    if (ctx.firstTime(FlowDirection.Read, resource.id, fromResource.id, policy.epoch)) {
      const links: Link[] = linkTo ? [{ context: linkTo }] : [];
      const spanContext = this.recorder.record({
        ctx,
        span: 'provenant.read',
        op: 'read',
        resource,
        data: fromResource,
        bytes,
        options,
        links,
      });
      if (spanContext) ctx.addReadLink(spanContext);
    }
  }
}
