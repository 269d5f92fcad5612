/**
 * What the HTTP/2 client and server stream patches share: the flow each stream's bytes belong
 * to, the decision before they leave (the policy, then the signed claim they were announced
 * with), and the refusal of a server stream (403 problem+json while its headers are unsent, else
 * a reset stream).
 */
import type http2 from 'node:http2';
import type { Attributes } from '@opentelemetry/api';
import type { FlowEngine } from '../../engine/flow-engine.js';
import type { FlowContext } from '../../provenance/context.js';
import type { ProvenanceSet } from '../../provenance/provenance-set.js';
import type { Resource } from '../../provenance/resource.js';
import { inContext, type ContextBound } from '../net/context-binding.js';
import type { PeerFlows } from '../net/peer-flows.js';
import type { ResponseClaim } from '../net/response-claim.js';
import { ReentrancyGuard } from '../../support/reentrancy.js';
import { deniedProblem, PROBLEM_TYPE } from '../problem.js';
import { claimCovers, headersSent, type Headers, type PendingResponse } from './propagation.js';

export const STREAM_FLOW = Symbol('provenant.http2Flow');

export interface StreamFlow {
  readonly ctx: FlowContext;
  /** Where the stream's bytes go: the origin (client) or the caller (server). */
  readonly destination: Resource;
  /** Client: where the session's socket really goes (decided with the origin); asked at each decision, as a lookup may resolve later. */
  readonly dialled?: () => readonly Resource[];
  readonly attributes: Attributes;
  readonly server: boolean;
  /** Client: the provenance the signed baggage described; undefined when none was sent. */
  readonly claimed?: ProvenanceSet | undefined;
  /** Server: the caller's address, and the signed claim about the response when it is a trusted peer. */
  readonly remote?: string | undefined;
  readonly claim?: ResponseClaim<PendingResponse> | undefined;
  denied: boolean;
  /** Why, once `denied`. */
  denial?: Error;
}

export type Method = (this: FlowStream, ...args: unknown[]) => unknown;
export type FlowStream = http2.Http2Stream & ContextBound & { [STREAM_FLOW]?: StreamFlow };
type Refusable = Error & { rule?: string; reason?: string; destination?: string };

export class StreamGate {
  /** Node's own `respond` and stream `end`, captured when the prototypes are patched: a refusal sends through them. */
  respond: Method | undefined;
  end: Method | undefined;
  /** While a refusal's problem body is being written: provenant's own bytes, not decided again. */
  readonly refusing = new ReentrancyGuard();

  constructor(
    readonly engine: FlowEngine,
    readonly flows: PeerFlows,
  ) {}

  /** Why a write to `resource` is denied in the current context, if it is. */
  denial(resource: Resource, attributes: Attributes): Error | undefined {
    const decision = this.engine.authorizeWrite(resource, undefined, { attributes });
    return decision.kind === 'deny' ? this.engine.deniedError(decision, resource) : undefined;
  }

  /**
   * Decide a stream's outgoing bytes (`body`: the call sends body bytes; `headers`: those of the
   * `respond()` under way): true when they may go. A denial is handed to `refuseWith`, else
   * destroys the stream.
   */
  allowed(stream: FlowStream, refuseWith: ((error: Error) => void) | undefined, body: boolean, headers?: Headers): boolean {
    const flow = stream[STREAM_FLOW];
    if (flow === undefined) return true;
    if (flow.denied) return false;
    const decide = (): Error | undefined =>
      this.denial(flow.destination, flow.attributes) ?? this.dialledDenial(flow) ?? this.claimError(stream, flow, body, headers);
    // A client writes in the writing context; a server's response belongs to its request's context.
    const error = flow.server ? inContext(this.engine.contexts, flow.ctx, decide) : decide();
    if (error === undefined) return true;
    flow.denied = true;
    flow.denial = error;
    if (refuseWith) refuseWith(error);
    else stream.destroy(error);
    return false;
  }

  /** Why a write to where the stream's socket really goes (see `StreamFlow.dialled`) is denied, if it is. */
  dialledDenial(flow: Pick<StreamFlow, 'destination' | 'dialled' | 'attributes'>): Error | undefined {
    for (const resource of flow.dialled?.() ?? []) {
      if (resource === flow.destination) continue;
      const error = this.denial(resource, flow.attributes);
      if (error) return error;
    }
    return undefined;
  }

  /** How a server stream is refused: through Node's own respond and `endStream`. */
  refuser(stream: FlowStream, endStream: Method): (error: Error) => void {
    return (error) => {
      const respond = this.respond;
      if (respond === undefined || headersSent(stream) || stream.destroyed) {
        // Reset (the caller sees the stream fail). An app with no 'error' listener on its server
        // stream must not crash because a response was refused: the app's own listeners still hear it.
        if (stream.listenerCount('error') === 0) stream.once('error', () => undefined);
        stream.destroy(error);
        return;
      }
      const body = deniedProblem(error as Refusable);
      respond.call(stream, { ':status': 403, 'content-type': PROBLEM_TYPE, 'content-length': Buffer.byteLength(body) });
      this.refusing.run(() => endStream.call(stream, body));
    };
  }

  /** The bytes would carry more than the signed claim sent (or being sent) about them: why they must not go. */
  private claimError(stream: FlowStream, flow: StreamFlow, body: boolean, headers: Headers | undefined): Error | undefined {
    if (flow.claim !== undefined)
      return flow.claim.covers({ stream, headers }, flow.ctx.provenance, body) ? undefined : flow.claim.exceeded();
    if (flow.claimed === undefined || !body) return undefined;
    const current = this.engine.contexts.current().provenance;
    return claimCovers(this.engine, flow.claimed, current) ? undefined : this.flows.claimExceeded(flow.claimed, flow.destination);
  }
}
