/**
 * Flow contexts: where provenance accumulates between a read and a write.
 * One per incoming request, one per `provenant.run()` scope, else the process context; carried
 * by AsyncLocalStorage so it follows await, timers, streams and emitter callbacks.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { SpanContext } from '@opentelemetry/api';
import type { Granularity } from '../config/types.js';
import type { ProvenanceSet, ProvenanceSets } from './provenance-set.js';

export type FlowContextKind = 'process' | 'request' | 'run';

/** Direction of a flow, as a small number for the per-context flow memo. */
export const FlowDirection = { Read: 0, Write: 1 } as const;
export type FlowDirection = (typeof FlowDirection)[keyof typeof FlowDirection];

/** Bound on remembered read spans (links) and distinct flows per context. */
const MAX_READ_LINKS = 32;
const MAX_FLOW_MEMO = 256;
const NO_LINKS: readonly SpanContext[] = Object.freeze([]);

export class FlowContext {
  provenance: ProvenanceSet;
  /** Span contexts of the reads that fed this context (the links of its write spans); allocated on first use, as most request contexts never need one. */
  private links: SpanContext[] | undefined;
  /** Flows already spanned and journaled in this context, four numbers each (one span per distinct flow). */
  private seenFlows: number[] | undefined;
  /** Parent for this context's lineage spans (incoming traceparent, or its first span). */
  parentSpan: SpanContext | undefined;
  /**
   * The flow engine's memo of this context's last read and write (so a repeated flow is a few
   * compares). A field rather than a WeakMap entry: a WeakMap keyed by one short-lived context
   * per request costs the garbage collector more than the whole memo saves.
   */
  engineMemo: object | undefined;

  constructor(
    readonly kind: FlowContextKind,
    provenance: ProvenanceSet,
    /** The pseudonymisable end user this context acts for (`enduser.id`). */
    readonly user?: string,
  ) {
    this.provenance = provenance;
  }

  /**
   * True the first time this flow (direction, resource, provenance set, policy epoch) is seen in
   * this context. Numbers, not string keys: this runs once per flow per request on busy servers.
   */
  firstTime(direction: FlowDirection, resourceId: number, setId: number, epoch: number): boolean {
    const seen = (this.seenFlows ??= []);
    for (let i = 0; i < seen.length; i += 4) {
      if (seen[i] === direction && seen[i + 1] === resourceId && seen[i + 2] === setId && seen[i + 3] === epoch) return false;
    }
    if (seen.length >= MAX_FLOW_MEMO * 4) seen.length = 0;
    seen.push(direction, resourceId, setId, epoch);
    return true;
  }

  get readLinks(): readonly SpanContext[] {
    return this.links ?? NO_LINKS;
  }

  addReadLink(span: SpanContext): void {
    this.links ??= [];
    if (this.links.length >= MAX_READ_LINKS) this.links.shift();
    this.links.push(span);
  }
}

export interface ContextOptions {
  granularity: Granularity;
  inheritProcessContext: boolean;
}

export class FlowContexts {
  readonly process: FlowContext;
  private readonly storage = new AsyncLocalStorage<FlowContext>();

  constructor(
    private readonly sets: ProvenanceSets,
    private readonly options: ContextOptions,
  ) {
    this.process = new FlowContext('process', sets.empty);
  }

  current(): FlowContext {
    return this.storage.getStore() ?? this.process;
  }

  /** Run `fn` in a new context (request or run scope); at process granularity it shares the process context. */
  runIn<T>(kind: Exclude<FlowContextKind, 'process'>, fn: () => T, seed?: ProvenanceSet, user?: string): T {
    const context = this.create(kind, seed, user);
    return this.storage.run(context, fn);
  }

  /** A fresh context (not yet entered) for callers that enter it themselves, e.g. per HTTP request. */
  create(kind: Exclude<FlowContextKind, 'process'>, seed?: ProvenanceSet, user?: string): FlowContext {
    if (this.options.granularity === 'process') {
      if (seed) this.process.provenance = this.sets.union(this.process.provenance, seed);
      return this.process;
    }
    let provenance = seed ?? this.sets.empty;
    if (this.options.inheritProcessContext) provenance = this.sets.union(this.process.provenance, provenance);
    return new FlowContext(kind, provenance, user);
  }

  runWith<T>(context: FlowContext, fn: () => T): T {
    return this.storage.run(context, fn);
  }
}
