/**
 * The flow engine: the hub instrumentations call. Data moves one way: instrumentation → engine →
 * provenance (contexts, sets, store) and policy (decide) → sinks (journal, lineage, subscribers,
 * through the interfaces in sinks.ts). Instrumentations never see policy, spans or hashing; they
 * get a Decision and, on deny, an error to surface in their API's own shape.
 *
 * The parts: decisions.ts (policy call, fail closed), read-flows.ts and write-flows.ts (a
 * context's reads and writes, memoised per context by context-memo.ts), file-operations.ts
 * (copies, links, dumps, removals), own-provenance.ts (what a read brings in), file-provenance.ts
 * (the node-local store), recorder.ts (one FlowRecord to every sink), runtime-labels.ts (the
 * `label()` API), application-events.ts (the `record()` API), attestations.ts and
 * monitor-verdicts.ts (`attest()`, monitors). The engine itself only guards re-entrancy, picks the
 * context and delegates; it is long only because it is the whole surface instrumentations call,
 * one short entry point per kind of call.
 */
import { diag, type SpanContext } from '@opentelemetry/api';
import type { LabelSpec } from '../config/types.js';
import type { ProvenanceDeniedError } from '../errors.js';
import type { FlowContexts } from '../provenance/context.js';
import type { LabelSchema } from '../provenance/labels.js';
import type { ProvenanceSet, ProvenanceSets } from '../provenance/provenance-set.js';
import type { Resource, ResourceRegistry } from '../provenance/resource.js';
import type { ProvenanceStore } from '../provenance/store.js';
import { ALLOW, type Decision } from '../policy/types.js';
import { isInternal } from '../support/reentrancy.js';
import { recordApplicationEvent, type ApplicationEvent } from './application-events.js';
import { Attestations, type AttestationParts } from './attestations.js';
import { memoOf } from './context-memo.js';
import { decideFlow, deniedError, type PolicySource } from './decisions.js';
import { DeferredDecisions } from './deferred-decisions.js';
import { FileOperations, type TransferOp } from './file-operations.js';
import { FileProvenance, type FileIdentity } from './file-provenance.js';
import { exceedsDefaults } from './store-unavailable.js';
import { OwnProvenance } from './own-provenance.js';
import { ProcessWide } from './process-wide.js';
import { FlowRecorder, type FlowOptions, type RecorderParts } from './recorder.js';
import { ReadFlows, type ReadOptions } from './read-flows.js';
import { runtimeLabelRule } from './runtime-labels.js';
import { WriteFlows, type FixedOutcome } from './write-flows.js';

export type { FlowOptions } from './recorder.js';
export type { FileIdentity } from './file-provenance.js';
export type { PolicySource } from './decisions.js';
export type { ReadOptions } from './read-flows.js';
export type { FixedOutcome } from './write-flows.js';

export interface FlowEngineParts extends Omit<RecorderParts, 'epoch' | 'policyDigest'> {
  schema: LabelSchema;
  resources: ResourceRegistry;
  sets: ProvenanceSets;
  contexts: FlowContexts;
  policy: PolicySource;
  store?: ProvenanceStore | undefined;
  /** Facts, signing and the compiled monitors (attestations.ts); the engine adds recorder, contexts and mode. */
  monitoring: Omit<AttestationParts, 'recorder' | 'contexts' | 'resources' | 'mode'>;
  /** Config `api.label`: app code may label resources at run time (default true). */
  runtimeLabels?: boolean;
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
  private readonly writes: WriteFlows;
  private readonly fileOperations: FileOperations;
  private readonly reads: ReadFlows;
  /** Everything any context of this process has read: what a dump of the whole process holds. */
  private readonly processWide: ProcessWide;
  private readonly runtimeLabels: boolean;
  /** Decisions asynchronous APIs took out of their call; taken before any other flow (deferred-decisions.ts). */
  private readonly waiting: DeferredDecisions;

  constructor(parts: FlowEngineParts) {
    this.schema = parts.schema;
    this.resources = parts.resources;
    this.sets = parts.sets;
    this.contexts = parts.contexts;
    this.policy = parts.policy;
    this.own = new OwnProvenance(parts.sets);
    this.processWide = new ProcessWide(parts.sets);
    this.files = new FileProvenance(
      parts.sets,
      parts.schema,
      parts.store,
      (path) => this.own.ifLabelled(parts.resources.file(path), parts.policy.current),
      () => parts.policy.current.labelledFolders,
    );
    this.recorder = new FlowRecorder({
      ...parts,
      epoch: () => parts.policy.current.epoch,
      policyDigest: () => parts.policy.current.digest,
    });
    this.reads = new ReadFlows({
      policy: parts.policy,
      sets: parts.sets,
      files: this.files,
      own: this.own,
      processWide: this.processWide,
      recorder: this.recorder,
    });
    this.writes = new WriteFlows({
      policy: parts.policy,
      resources: parts.resources,
      sets: parts.sets,
      files: this.files,
      recorder: this.recorder,
    });
    this.fileOperations = new FileOperations({
      policy: parts.policy,
      contexts: parts.contexts,
      resources: parts.resources,
      sets: parts.sets,
      files: this.files,
      own: this.own,
      processWide: this.processWide,
      recorder: this.recorder,
      writes: this.writes,
      file: (absolutePath) => this.file(absolutePath),
      denied: (decision, resource, data) => this.deniedError(decision, resource, data),
    });
    this.attestations = new Attestations({
      ...parts.monitoring,
      recorder: this.recorder,
      contexts: parts.contexts,
      resources: parts.resources,
      mode: () => parts.policy.current.mode,
    });
    this.runtimeLabels = parts.runtimeLabels ?? true;
    this.waiting = new DeferredDecisions(parts.contexts);
  }

  /** The policy epoch: a memo of a decision holds while the context's provenance and this are unchanged. */
  get policyEpoch(): number {
    return this.policy.current.epoch;
  }

  /** Data flows from `resource` into the current context. */
  read(resource: Resource, bytes?: number, options?: ReadOptions): void {
    if (isInternal()) return;
    this.waiting.settle();
    try {
      this.reads.into(this.contexts.current(), resource, bytes, options);
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
    this.waiting.settle();
    return this.writes.authorize(this.contexts.current(), resource, bytes, options);
  }

  /**
   * For an asynchronous API (a promise or callback): `fn`'s decisions commit the files' provenance
   * without waiting for the disk, so the event loop never blocks on an fsync; the API moves its
   * bytes once `durable()` settles, and fails with its error when the provenance cannot be synced.
   */
  deferDurability<T>(fn: () => T): T {
    return this.files.deferDurability(fn);
  }

  /**
   * For an asynchronous API: `decide` runs after the call has returned, in the caller's context
   * and in call order, before any later flow is decided or recorded; then `start(outcome)` (which
   * calls the API's original when `decide` allowed it). The API returns the promise.
   */
  decideLater<T>(decide: () => T, start: (outcome: T) => unknown): Promise<unknown> {
    return this.waiting.add(decide, start);
  }

  /** Settles once the provenance committed so far is on disk; undefined when nothing waits for it. */
  durable(): Promise<void> | undefined {
    return this.files.durable();
  }

  /** The provenance committed so far on disk now, on this thread (throws when it cannot be). */
  durableNow(): void {
    this.files.durableNow();
  }

  /**
   * A flow the policy does not decide: `inherited` (data handed to a child that carries its labels
   * on, recorded and allowed) or a fixed denial (`self-protection`: writes to provenant's own
   * config, keys and state, whatever the policy says). Returns the error to surface on a denial.
   */
  fixedFlow(resource: Resource, outcome: FixedOutcome, bytes?: number, options?: FlowOptions): ProvenanceDeniedError | undefined {
    if (isInternal()) return undefined;
    this.waiting.settle();
    const decision = this.writes.fixed(this.contexts.current(), resource, outcome, bytes, options);
    return decision?.kind === 'deny' ? this.deniedError(decision, resource) : undefined;
  }

  /** What the policy says about the current context's data going to `resource`, without recording anything. */
  decide(resource: Resource): Decision {
    if (isInternal()) return ALLOW;
    this.waiting.settle();
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
  transfer(op: TransferOp, from: string, to: string): ProvenanceDeniedError | undefined {
    if (isInternal()) return undefined;
    this.waiting.settle();
    return this.fileOperations.transfer(op, from, to);
  }

  /**
   * A data module (JSON, or text a loader turns into a module) was loaded from `absolutePath`: a
   * read when its data is labelled above the defaults (config labels or stored provenance).
   * Loading code is not a flow, and neither is loading unlabelled data (every package's JSON).
   */
  readDataModule(absolutePath: string, bytes: number | undefined): void {
    if (isInternal()) return;
    this.waiting.settle();
    try {
      const resource = this.file(absolutePath);
      const policy = this.policy.current;
      const data = this.own.of(resource, this.files.provenanceOf(resource), policy);
      if (exceedsDefaults(data.labels, policy.defaults)) {
        this.reads.into(this.contexts.current(), resource, bytes, { attributes: { 'file.path': resource.path as string } });
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
    this.waiting.settle();
    return this.fileOperations.authorizeProcessDump(absolutePath, kind);
  }

  /**
   * A dump of the whole process is handed to JS (`v8.getHeapSnapshot()`): the current context reads
   * everything this process has read, as authorizeProcessDump decides a dump written to a file. Not
   * caught: a dump whose read was not taken must not be handed over, so the caller fails instead.
   */
  readProcessDump(kind: string): void {
    if (isInternal()) return;
    this.waiting.settle();
    const provenance = this.processWide.data();
    this.reads.into(this.contexts.current(), this.resources.process(process.pid), undefined, {
      provenance,
      attributes: { 'provenant.dump': kind },
    });
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
    this.waiting.settle();
    this.fileOperations.retire(files);
  }

  /** This process renamed, linked or removed something: cached file identities may be stale. */
  namesChanged(): void {
    this.files.namesChanged();
  }

  /** This process removed regular files only (no folder, no symlink): their identities are stale, folders' real paths are not. */
  filesRemoved(): void {
    this.files.filesRemoved();
  }

  /** The error to surface for a denied flow of `data` (default: the current context's), in the shape every API gets it. */
  deniedError(decision: Decision, resource: Resource, data: ProvenanceSet = this.contexts.current().provenance): ProvenanceDeniedError {
    return deniedError(this.schema, decision, resource, data);
  }

  /** Application-level provenance: outputs derive from inputs (and from the current context). */
  recordApplicationEvent(event: ApplicationEvent): void {
    this.waiting.settle();
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
    this.waiting.settle();
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
    return this.refuse(resource, outcome);
  }

  /** A flow refused whatever the data (a switched-off API, a native dump): recorded, and the error to surface. */
  refuse(resource: Resource, outcome: FixedOutcome & { kind: 'deny' }): ProvenanceDeniedError {
    return this.fixedFlow(resource, outcome) ?? this.deniedError(outcome, resource);
  }

  /** Write the summaries of repeated flows now (exit paths call this before closing the journal). */
  flushRepeats(): void {
    this.recorder.flushRepeats();
  }
}
