/**
 * Flow contexts: where provenance accumulates between a read and a write (design §Vocabulary).
 * One per incoming request, one per `provenant.run()` scope, else the process context; carried
 * by AsyncLocalStorage so it follows await, timers, streams and emitter callbacks.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { SpanContext } from '@opentelemetry/api';
import type { Granularity } from '../config/types.js';
import type { ProvenanceSet, ProvenanceSets } from './provenance-set.js';

export type FlowContextKind = 'process' | 'request' | 'run';

/** Bound on remembered read spans (links) and distinct flows per context. */
const MAX_READ_LINKS = 32;
const MAX_FLOW_MEMO = 1024;
const NO_LINKS: readonly SpanContext[] = Object.freeze([]);

export class FlowContext {
  provenance: ProvenanceSet;
  /** Span contexts of the reads that fed this context (the links of its write spans); allocated on first use, as most request contexts never need one. */
  private links: SpanContext[] | undefined;
  /** Keys of flows already spanned and journaled in this context (one span per distinct flow). */
  private seenFlows: Set<string> | undefined;
  /** Parent for this context's lineage spans (incoming traceparent, or its first span). */
  parentSpan: SpanContext | undefined;

  constructor(
    readonly kind: FlowContextKind,
    provenance: ProvenanceSet,
    /** The pseudonymisable end user this context acts for (`enduser.id`). */
    readonly user?: string,
    /** Free-form attributes of the context (peer address, method, route). */
    readonly attributes: Readonly<Record<string, string | number>> = {},
  ) {
    this.provenance = provenance;
  }

  /** True the first time `key` is seen in this context. */
  firstTime(key: string): boolean {
    if (this.seenFlows === undefined) {
      this.seenFlows = new Set([key]);
      return true;
    }
    if (this.seenFlows.has(key)) return false;
    if (this.seenFlows.size >= MAX_FLOW_MEMO) this.seenFlows.clear();
    this.seenFlows.add(key);
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
    private options: ContextOptions,
  ) {
    this.process = new FlowContext('process', sets.empty);
  }

  configure(options: ContextOptions): void {
    this.options = options;
  }

  current(): FlowContext {
    return this.storage.getStore() ?? this.process;
  }

  /** Run `fn` in a new context (request or run scope); at process granularity it shares the process context. */
  runIn<T>(kind: Exclude<FlowContextKind, 'process'>, fn: () => T, seed?: ProvenanceSet, user?: string, attributes?: Record<string, string | number>): T {
    const context = this.create(kind, seed, user, attributes);
    return this.storage.run(context, fn);
  }

  /** A fresh context (not yet entered) for callers that enter it themselves, e.g. per HTTP request. */
  create(kind: Exclude<FlowContextKind, 'process'>, seed?: ProvenanceSet, user?: string, attributes?: Record<string, string | number>): FlowContext {
    if (this.options.granularity === 'process') {
      if (seed) this.process.provenance = this.sets.union(this.process.provenance, seed);
      return this.process;
    }
    let provenance = seed ?? this.sets.empty;
    if (this.options.inheritProcessContext) provenance = this.sets.union(this.process.provenance, provenance);
    return new FlowContext(kind, provenance, user, attributes);
  }

  /** Enter `context` for the rest of the current synchronous execution and its async continuations. */
  enter(context: FlowContext): void {
    this.storage.enterWith(context);
  }

  runWith<T>(context: FlowContext, fn: () => T): T {
    return this.storage.run(context, fn);
  }
}
