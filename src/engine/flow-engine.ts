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
import { FileProvenance, type FileIdentity } from './file-provenance.js';
import { exceedsDefaults, STORE_UNAVAILABLE_RULE, storeUnavailableDecision, UNPERSISTED_ATTRIBUTE } from './store-unavailable.js';
import { OwnProvenance } from './own-provenance.js';
import { ProcessWide } from './process-wide.js';
import { FlowRecorder, type FlowOptions, type RecorderParts } from './recorder.js';
import { runtimeLabelRule } from './runtime-labels.js';

export type { FlowOptions } from './recorder.js';
export type { FileIdentity } from './file-provenance.js';

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
  /** Everything any context of this process has read: what a dump of the whole process holds. */
  private readonly processWide: ProcessWide;
  private readonly runtimeLabels: boolean;

  constructor(parts: FlowEngineParts) {
    this.schema = parts.schema;
    this.resources = parts.resources;
    this.sets = parts.sets;
    this.contexts = parts.contexts;
    this.policy = parts.policy;
    this.own = new OwnProvenance(parts.sets);
    this.processWide = new ProcessWide(parts.sets);
    this.files = new FileProvenance(parts.sets, parts.schema, parts.store, (resource) => {
      const policy = parts.policy.current;
      const own = this.own.of(resource, parts.sets.empty, policy);
      const labels = own.labels;
      const defaults = policy.defaults;
      const labelled =
        labels.confidentiality !== defaults.confidentiality || labels.integrity !== defaults.integrity || labels.tags.length > 0;
      return labelled ? own : undefined;
    });
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
   * The file resource an absolute path names: its real path (symlinks, `/proc/self/fd/N`,
   * `/proc/self/root` resolved), so config globs match the file itself whatever name it is used by.
   */
  file(absolutePath: string): Resource {
    return this.resources.file(this.realPath(absolutePath));
  }

  /** The real path of an absolute path (of where it would be created, when it does not exist). */
  realPath(absolutePath: string): string {
    return this.identityOf(absolutePath).path;
  }

  /**
   * Decide a flow from the current context to `resource`, record it, and on allow persist the
   * file's new provenance before returning. Callers must not move a byte on `deny`. Every
   * allowed write persists, the repeated ones too: the file may have been renamed or removed
   * since (an atomic rewrite), and what it holds now must still carry the data's provenance.
   */
  authorizeWrite(resource: Resource, bytes?: number, options?: FlowOptions): Decision {
    if (isInternal()) return ALLOW;
    const ctx = this.contexts.current();
    const policy = this.policy.current;
    const data = ctx.provenance;
    const memo = memoOf(ctx);
    const last = memo.lastWrite;
    const repeated = last !== undefined && last.resource === resource && last.data === data && last.epoch === policy.epoch;
    if (repeated && (last.decision.kind === 'deny' || this.files.isPersisted(resource, data))) return last.decision;
    // The memo keeps the policy's answer; a store failure is re-tried on the next write.
    const decided = repeated ? last.decision : this.decideWrite(policy, data, resource);
    let decision = decided;
    let span = last?.resource === resource ? last.span : undefined;
    try {
      if (!repeated && ctx.firstTime(FlowDirection.Write, resource.id, data.id, policy.epoch)) {
        span = this.recordWrite(ctx, resource, data, decision, bytes, options) ?? span;
      }
      if (decision.kind !== 'deny' && !this.files.persist(resource, data, repeated ? undefined : span)) {
        decision = this.unpersistedDecision(policy, data, decision);
        if (decision.kind !== 'allow') this.recordWrite(ctx, resource, data, decision, bytes, options);
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
   * copyFile / cp / rename / link / symlink, before they happen: provenance goes from file to
   * file without a context. It is still a flow and is checked (a secret file copied, or given a
   * new name, in a public folder is denied); a denial is returned as the error to surface,
   * carrying the file's labels. `to` is the new name as given (a symlink's own path).
   */
  transfer(op: 'copy' | 'move' | 'link' | 'symlink', from: string, to: string): ProvenanceDeniedError | undefined {
    if (isInternal()) return undefined;
    const source = this.file(from);
    const destination = this.file(to);
    const policy = this.policy.current;
    const data = this.own.of(source, this.files.provenanceOf(source), policy);
    let decision = this.decideWrite(policy, data, destination);
    try {
      // A symlink needs nothing stored: its reads and writes resolve to the file it names.
      if (decision.kind !== 'deny' && op !== 'symlink') {
        try {
          this.files.transfer(op, source, destination, data);
        } catch (error) {
          diag.warn(`provenant: saving the provenance of ${op} ${from} → ${to} failed`, error);
          decision = this.unpersistedDecision(policy, data, decision);
        }
      }
      this.recorder.record({
        ctx: this.contexts.current(),
        span: decision.kind === 'deny' ? 'provenant.deny' : 'provenant.write',
        op: op === 'link' || op === 'symlink' ? 'copy' : op,
        resource: destination,
        data,
        decision,
        options: { attributes: { 'file.path': to, 'provenant.from': from, 'provenant.transfer': op } },
        links: [],
      });
    } catch (error) {
      diag.warn(`provenant: recording ${op} ${from} → ${to} failed`, error);
    }
    return decision.kind === 'deny' ? this.deniedError(decision, destination, data) : undefined;
  }

  /**
   * A data module (JSON, or text a loader turns into a module) was loaded from `absolutePath`: a
   * read when its data is labelled above the defaults (config labels or stored provenance).
   * Loading code is not a flow, and neither is loading unlabelled data (every package's JSON).
   */
  readDataModule(absolutePath: string, bytes: number | undefined): void {
    if (isInternal()) return;
    try {
      const resource = this.file(absolutePath);
      const policy = this.policy.current;
      const data = this.own.of(resource, this.files.provenanceOf(resource), policy);
      if (exceedsDefaults(data.labels, policy.defaults)) {
        this.readInto(this.contexts.current(), resource, bytes, { attributes: { 'file.path': resource.path as string } });
      }
    } catch (error) {
      diag.warn(`provenant: recording the load of data module ${absolutePath} failed`, error);
    }
  }

  /**
   * A dump of the whole process (a heap snapshot, a diagnostic report) is about to be written to
   * `absolutePath`: it holds whatever any context has read, so it is decided with everything this
   * process has read. Returns the error to surface when denied.
   */
  authorizeProcessDump(absolutePath: string, kind: string): ProvenanceDeniedError | undefined {
    if (isInternal()) return undefined;
    const resource = this.file(absolutePath);
    const policy = this.policy.current;
    const data = this.processWide.data();
    let decision = this.decideWrite(policy, data, resource);
    try {
      if (decision.kind !== 'deny' && !this.files.persist(resource, data, undefined))
        decision = this.unpersistedDecision(policy, data, decision);
      this.recordWrite(this.contexts.current(), resource, data, decision, undefined, {
        attributes: { 'file.path': resource.path as string, 'provenant.dump': kind },
      });
    } catch (error) {
      diag.warn(`provenant: recording the ${kind} written to ${absolutePath} failed`, error);
    }
    return decision.kind === 'deny' ? this.deniedError(decision, resource, data) : undefined;
  }

  /** The identity (real path, inode) of an absolute path, cached for existing files. */
  identityOf(absolutePath: string): FileIdentity {
    return this.files.identities.of(absolutePath);
  }

  /** Identities of files about to be removed: taken before, retired after (`retire`). */
  identitiesOf(paths: readonly string[]): FileIdentity[] {
    return paths.map((path) => this.identityOf(path));
  }

  /** unlink / rm, after the fact: each file's provenance is retired (the journal keeps its history). */
  retire(files: readonly FileIdentity[]): void {
    if (isInternal()) return;
    try {
      if (!this.files.retire(files)) return;
      for (const file of files) {
        this.recorder.record({
          ctx: this.contexts.current(),
          span: 'provenant.write',
          op: 'delete',
          resource: this.resources.file(file.path),
          data: this.sets.empty,
          decision: ALLOW,
          options: { attributes: { 'file.path': file.path } },
          links: [],
        });
      }
    } catch (error) {
      diag.warn(`provenant: retiring the provenance of ${files.map((file) => file.path).join(', ')} failed`, error);
    }
  }

  /** This process renamed, linked or removed something: cached file identities may be stale. */
  namesChanged(): void {
    this.files.namesChanged();
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
    const named = this.resources.parse(uriOrPath);
    // A file is labelled by its real path, the one its flows are matched by.
    const resource = named.kind === 'file' ? this.file(named.path as string) : named;
    this.policy.prependResource(runtimeLabelRule(resource, labels));
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

  /** The policy's decision for a file, and for every other name of its inode (the strictest wins). */
  private decideWrite(policy: CompiledPolicy, data: ProvenanceSet, resource: Resource): Decision {
    const decision = decideFlow(policy, data, resource);
    if (decision.kind === 'deny' || resource.kind !== 'file') return decision;
    for (const name of this.files.stateOf(resource).otherNames) {
      const other = decideFlow(policy, data, this.resources.file(name));
      if (other.kind === 'deny') return other;
    }
    return decision;
  }

  /**
   * The write's provenance could not be saved for other processes: labelled data (above the
   * configured defaults) is denied in enforce mode, so no later reader takes it for unlabelled.
   */
  private unpersistedDecision(policy: CompiledPolicy, data: ProvenanceSet, decision: Decision): Decision {
    if (!exceedsDefaults(data.labels, policy.defaults)) return decision;
    return storeUnavailableDecision(policy.mode, this.files.unpersistedWrites);
  }

  /**
   * The store persists again: the journal gets a record counting the writes whose provenance it
   * could not save meanwhile (the disk that was full usually holds the journal too, which is
   * writable again now).
   */
  private reportUnpersisted(ctx: FlowContext): void {
    const count = this.files.takeUnreported();
    if (count === 0) return;
    this.recorder.record({
      ctx,
      span: 'provenant.record',
      op: 'record',
      resource: this.resources.process(process.pid),
      data: this.sets.empty,
      decision: ALLOW,
      options: { attributes: { [UNPERSISTED_ATTRIBUTE]: count } },
      links: [],
      action: STORE_UNAVAILABLE_RULE,
    });
  }

  private recordWrite(
    ctx: FlowContext,
    resource: Resource,
    data: ProvenanceSet,
    decision: Decision,
    bytes: number | undefined,
    options: FlowOptions | undefined,
  ): SpanContext | undefined {
    return this.recorder.record({
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
    this.processWide.note(fromResource);
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
