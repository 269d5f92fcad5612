/**
 * Flows between threads: what a worker is given (workerData, messages) and what comes back.
 * A thread that runs provenant gets the sender context's labels with the data (the seed a worker
 * starts with, labelled messages), so its writes are decided with them and the receiving side
 * handles a message in a context seeded from it. Any other thread is a destination like any
 * other, `process://<node>/<pid>/worker`, with the `defaults` labels.
 */
import { verifiedData, unverifiedData } from '../../engine/claimed-data.js';
import type { FlowEngine } from '../../engine/flow-engine.js';
import type { ProvenanceDeniedError } from '../../errors.js';
import type { PublicLabels } from '../../provenance/labels.js';
import type { ProvenanceSet } from '../../provenance/provenance-set.js';
import type { Resource } from '../../provenance/resource.js';
import { isLabelled, labelled } from './labelled-message.js';

/** What a worker under provenant starts with (cloned into it as environment data). */
export interface WorkerSeed {
  readonly labels: PublicLabels;
  readonly sources: readonly string[];
}

export class ThreadFlows {
  readonly resource: Resource;
  /** Ports whose other end runs provenant (a worker's own `parentPort`). */
  readonly mediatedPorts = new WeakSet<object>();

  constructor(private readonly engine: FlowEngine) {
    this.resource = engine.resources.worker();
  }

  /** The seed for a worker under provenant: the current context's data, recorded as handed over. */
  handOver(): WorkerSeed {
    const data = this.engine.contexts.current().provenance;
    if (data !== this.engine.sets.empty) this.engine.fixedFlow(this.resource, { kind: 'inherited' });
    return { labels: this.engine.schema.toPublic(data.labels), sources: data.sources };
  }

  /** A value for a thread under provenant: labelled when the context holds any provenance. */
  toMediated(value: unknown): unknown {
    const data = this.engine.contexts.current().provenance;
    if (data === this.engine.sets.empty) return value;
    this.engine.fixedFlow(this.resource, { kind: 'inherited' });
    return labelled(value, this.engine.schema.toPublic(data.labels), data.sources);
  }

  /** Data to a thread that may not run provenant: decided like any destination. */
  toUnknown(): ProvenanceDeniedError | undefined {
    const decision = this.engine.authorizeWrite(this.resource);
    return decision.kind === 'deny' ? this.engine.deniedError(decision, this.resource) : undefined;
  }

  /**
   * A worker that would not run provenant (monitored-options.ts): refused in enforce mode; in audit
   * mode it starts as it would without provenant, recorded as a violation.
   */
  unmonitored(reason: string, enforce: boolean): ProvenanceDeniedError | undefined {
    const outcome = { rule: 'unmonitored-thread', reason: `a worker thread without provenant: ${reason}` };
    if (enforce) return this.engine.refuse(this.resource, { kind: 'deny', ...outcome });
    this.engine.fixedFlow(this.resource, { kind: 'violation', ...outcome });
    return undefined;
  }

  /** Deliver a received message; a labelled one is handled in a context seeded with its labels. */
  receive<T>(data: unknown, deliver: (value: unknown) => T): T {
    if (!isLabelled(data)) return deliver(data);
    const provenance = this.setOf(data.labels, data.sources);
    return this.engine.contexts.runIn('run', () => {
      this.engine.read(this.resource, undefined, { provenance });
      return deliver(data.value);
    });
  }

  /** A message taken synchronously (`receiveMessageOnPort`): its labels flow into the current context. */
  receiveHere(data: unknown): unknown {
    if (!isLabelled(data)) return data;
    this.engine.read(this.resource, undefined, { provenance: this.setOf(data.labels, data.sources) });
    return data.value;
  }

  /**
   * In a worker: the process context starts with what its creator handed over. A creator whose
   * context held nothing recorded no hand-over, as it sends an unlabelled message for such a
   * context: the worker starts as empty as its creator was, with no read (a first journal record
   * at start cost ~3 ms of every worker's start-up).
   */
  seedFrom(seed: unknown): boolean {
    if (typeof seed !== 'object' || seed === null) return false;
    const { labels, sources } = seed as Partial<WorkerSeed>;
    if (typeof labels !== 'object' || !Array.isArray(sources)) return false;
    const provenance = this.setOf(labels, sources);
    if (provenance !== this.engine.sets.empty) this.engine.read(this.resource, undefined, { provenance });
    return true;
  }

  /** Labels from another thread of this process: trusted when this node knows their levels, else kept at least as confidential. */
  private setOf(labels: PublicLabels, sources: readonly string[]): ProvenanceSet {
    return (
      verifiedData(this.engine.sets, this.engine.schema, labels, sources) ?? unverifiedData(this.engine.sets, this.engine.schema, labels)
    );
  }
}
