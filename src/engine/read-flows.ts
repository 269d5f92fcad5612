/**
 * Reads: data flows from a resource into a context. The context's provenance becomes the union
 * of what it held and what the resource brings (own-provenance.ts); a read repeated with the same
 * inputs costs a few compares (context-memo.ts), and only a context's first read of a resource
 * with given provenance is recorded.
 */
import type { Link, SpanContext } from '@opentelemetry/api';
import { FlowDirection, type FlowContext } from '../provenance/context.js';
import type { ProvenanceSet, ProvenanceSets } from '../provenance/provenance-set.js';
import type { Resource } from '../provenance/resource.js';
import { memoOf } from './context-memo.js';
import type { PolicySource } from './decisions.js';
import type { FileProvenance } from './file-provenance.js';
import type { OwnProvenance } from './own-provenance.js';
import type { ProcessWide } from './process-wide.js';
import type { FlowOptions, FlowRecorder } from './recorder.js';

export interface ReadOptions extends FlowOptions {
  /** Provenance the resource carries beyond its own URI (e.g. verified incoming baggage). */
  provenance?: ProvenanceSet;
  /** Span of the write that produced this data elsewhere (a read links back to it). */
  linkTo?: SpanContext;
  /**
   * `provenance` is a verified claim from a trusted peer: the data carries its labels, and the
   * resource's configured labels (what the peer may receive) are not joined in.
   */
  vouched?: boolean;
}

export interface ReadFlowParts {
  policy: PolicySource;
  sets: ProvenanceSets;
  files: FileProvenance;
  own: OwnProvenance;
  processWide: ProcessWide;
  recorder: FlowRecorder;
}

export class ReadFlows {
  constructor(private readonly parts: ReadFlowParts) {}

  /** Data flows from `resource` into `ctx`: the context's provenance grows; a first read is recorded. */
  into(ctx: FlowContext, resource: Resource, bytes: number | undefined, options: ReadOptions | undefined): void {
    const policy = this.parts.policy.current;
    let incoming: ProvenanceSet;
    let linkTo = options?.linkTo;
    const vouched = options?.vouched === true && options.provenance !== undefined;
    if (options?.provenance) {
      incoming = options.provenance;
    } else {
      const file = this.parts.files.stateOf(resource);
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
      last.epoch === policy.epoch &&
      last.vouched === vouched
    ) {
      ctx.provenance = last.after;
      return;
    }
    const fromResource = this.parts.own.of(resource, incoming, policy, vouched);
    const after = this.parts.sets.union(before, fromResource);
    this.parts.processWide.note(fromResource);
    ctx.provenance = after;
    memo.lastRead = { resource, incoming, before, after, epoch: policy.epoch, vouched };
    if (ctx.firstTime(FlowDirection.Read, resource.id, fromResource.id, policy.epoch)) {
      const links: Link[] = linkTo ? [{ context: linkTo }] : [];
      const spanContext = this.parts.recorder.record({
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
