/**
 * Writes: data flows from a context to a resource, decided before a byte moves. Beyond the
 * policy's single answer, every recorded name of a file's inode is decided too (the strictest
 * wins), and a write whose provenance the store could not save is denied when its data is
 * labelled, so no later reader takes it for unlabelled. A write repeated with the same inputs
 * costs a few compares (context-memo.ts).
 */
import { diag, type SpanContext } from '@opentelemetry/api';
import { FlowDirection, type FlowContext } from '../provenance/context.js';
import type { ProvenanceSet, ProvenanceSets } from '../provenance/provenance-set.js';
import type { Resource, ResourceRegistry } from '../provenance/resource.js';
import { ALLOW, type CompiledPolicy, type Decision } from '../policy/types.js';
import { memoOf } from './context-memo.js';
import { decideFlow, type PolicySource } from './decisions.js';
import type { FileProvenance } from './file-provenance.js';
import type { FlowOptions, FlowRecorder } from './recorder.js';
import { exceedsDefaults, STORE_UNAVAILABLE_RULE, storeUnavailableDecision, UNPERSISTED_ATTRIBUTE } from './store-unavailable.js';

export interface WriteFlowParts {
  policy: PolicySource;
  resources: ResourceRegistry;
  sets: ProvenanceSets;
  files: FileProvenance;
  recorder: FlowRecorder;
}

/** What `fixedFlow` records instead of asking the policy. */
/** A fixed flow: inherited labels, a refusal, or (audit mode) what enforce mode would refuse. */
export type FixedOutcome = { kind: 'inherited' } | { kind: 'deny' | 'violation'; rule: string; reason: string };

const INHERITED: Decision = Object.freeze({ kind: 'allow', rule: 'inherited' });

export class WriteFlows {
  constructor(private readonly parts: WriteFlowParts) {}

  /** See FlowEngine.authorizeWrite. */
  authorize(ctx: FlowContext, resource: Resource, bytes: number | undefined, options: FlowOptions | undefined): Decision {
    const policy = this.parts.policy.current;
    const data = ctx.provenance;
    const memo = memoOf(ctx);
    const last = memo.lastWrite;
    const repeated = last !== undefined && last.resource === resource && last.data === data && last.epoch === policy.epoch;
    if (repeated && (last.decision.kind === 'deny' || this.parts.files.isPersisted(resource, data))) return last.decision;
    // The memo keeps the policy's answer; a store failure is re-tried on the next write.
    const decided = repeated ? last.decision : this.decide(policy, data, resource);
    let decision = decided;
    let span = last?.resource === resource ? last.span : undefined;
    try {
      if (!repeated && ctx.firstTime(FlowDirection.Write, resource.id, data.id, policy.epoch)) {
        span = this.record(ctx, resource, data, decision, bytes, options) ?? span;
      }
      if (decision.kind !== 'deny' && !this.parts.files.persist(resource, data, repeated ? undefined : span)) {
        decision = this.unpersisted(policy, data, decision);
        if (decision.kind !== 'allow') this.record(ctx, resource, data, decision, bytes, options);
      } else if (decision.kind !== 'deny') {
        this.reportUnpersisted(ctx);
      }
    } catch (error) {
      // Recording fails open (the decision stands); a policy fault already failed closed in decideFlow().
      diag.warn(`provenant: recording a write to ${resource.uri} failed`, error);
    }
    memo.lastWrite = { resource, data, epoch: policy.epoch, decision, span };
    return decision;
  }

  /** See FlowEngine.fixedFlow: the decision recorded, or undefined for an inherited flow already recorded. */
  fixed(
    ctx: FlowContext,
    resource: Resource,
    outcome: FixedOutcome,
    bytes: number | undefined,
    options: FlowOptions | undefined,
  ): Decision | undefined {
    const decision: Decision =
      outcome.kind === 'inherited' ? INHERITED : Object.freeze({ kind: outcome.kind, rule: outcome.rule, reason: outcome.reason });
    // An inherited flow repeated in one context (a worker's every message) is recorded once.
    if (decision === INHERITED && !ctx.firstTime(FlowDirection.Write, resource.id, ctx.provenance.id, this.parts.policy.current.epoch))
      return undefined;
    try {
      this.parts.recorder.record({
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
    return decision;
  }

  /** The policy's decision for a resource, and for a file every other name of its inode. */
  decide(policy: CompiledPolicy, data: ProvenanceSet, resource: Resource): Decision {
    const decision = decideFlow(policy, data, resource);
    if (decision.kind === 'deny' || resource.kind !== 'file') return decision;
    for (const name of this.parts.files.stateOf(resource).otherNames) {
      const other = decideFlow(policy, data, this.parts.resources.file(name));
      if (other.kind === 'deny') return other;
    }
    return decision;
  }

  /** The decision that stands when the write's provenance could not be saved for other processes. */
  unpersisted(policy: CompiledPolicy, data: ProvenanceSet, decision: Decision): Decision {
    if (!exceedsDefaults(data.labels, policy.defaults)) return decision;
    return storeUnavailableDecision(policy.mode, this.parts.files.unpersistedWrites);
  }

  /**
   * The store persists again: the journal gets a record counting the writes whose provenance it
   * could not save meanwhile (the disk that was full usually holds the journal too, which is
   * writable again now).
   */
  reportUnpersisted(ctx: FlowContext): void {
    const count = this.parts.files.takeUnreported();
    if (count === 0) return;
    this.parts.recorder.record({
      ctx,
      span: 'provenant.record',
      op: 'record',
      resource: this.parts.resources.process(process.pid),
      data: this.parts.sets.empty,
      decision: ALLOW,
      options: { attributes: { [UNPERSISTED_ATTRIBUTE]: count } },
      links: [],
      action: STORE_UNAVAILABLE_RULE,
    });
  }

  /** One decided write to every sink; returns its span (the parent later flows link to). */
  record(
    ctx: FlowContext,
    resource: Resource,
    data: ProvenanceSet,
    decision: Decision,
    bytes: number | undefined,
    options: FlowOptions | undefined,
  ): SpanContext | undefined {
    return this.parts.recorder.record({
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
  }
}
