/**
 * The bridge between propagation (claims and verdicts, through the PeerProtocol) and the flow
 * engine (resources, provenance sets, reads): what data from a peer brings into a context, and
 * what a context tells a peer.
 */
import { diag, type SpanContext } from '@opentelemetry/api';
import type { FlowEngine } from '../../engine/flow-engine.js';
import type { FlowOptions } from '../../engine/recorder.js';
import type { ProvenanceDeniedError } from '../../errors.js';
import { unverifiedData, verifiedData } from '../../engine/claimed-data.js';
import type { ProvenanceSet } from '../../provenance/provenance-set.js';
import type { Resource } from '../../provenance/resource.js';
import type { ClaimedLabels, HeaderValue, OutgoingData, ProvenanceClaim, Verdict } from '../../provenance/peer-claim.js';
import type { PeerProtocol } from './peer-protocol.js';

/** Header carrying the server's signed claim about a response body (README: "Across services: signed baggage"). */
export const RESPONSE_CLAIM_HEADER = 'provenant-baggage';
/** Rule of the denial for body bytes carrying more than the claim sent with their headers. */
const CLAIM_EXCEEDED = 'claim-exceeded';

/** What a verified claim brings into a context: its set (null when its levels are unknown here) and the write it links to. */
interface ClaimedData {
  readonly provenance: ProvenanceSet | null;
  readonly linkTo: SpanContext | undefined;
}

export class PeerFlows {
  private unclaimed: ProvenanceSet | undefined;
  /** By verified claim: the protocol hands out one claim object per distinct claim, so its arrivals share one set. */
  private readonly claimed = new WeakMap<ProvenanceClaim, ClaimedData>();

  constructor(
    private readonly engine: FlowEngine,
    readonly protocol: PeerProtocol,
  ) {}

  /** What the current context would tell a peer about data flowing to `resource`. */
  outgoing(resource: Resource): OutgoingData {
    const provenance = this.engine.contexts.current().provenance;
    const data: OutgoingData = {
      labels: this.engine.schema.toPublic(provenance.labels),
      sources: provenance.sources,
      dataId: provenance.id,
    };
    const span = this.engine.writeSpan(resource);
    // Only a span this process made is its write span: a context that spanned nothing falls back
    // to the trace parent it joined (the caller's span, remote), which would name the receiver's
    // own span to it and make every claim distinct (signed and verified per request, not per second).
    if (span && span.isRemote !== true) data.writeSpan = this.protocol.spanReference(span);
    if (resource.host !== undefined && resource.port !== undefined) data.audience = `${resource.host}:${resource.port}`;
    return data;
  }

  /** What a request from the current context to `host` tells it; undefined unless we sign for `host`. */
  claimFor(host: string, resource: Resource): OutgoingData | undefined {
    return this.protocol.signsFor(host) ? this.outgoing(resource) : undefined;
  }

  /** The `baggage` header for `host`: the members of `existing` that are not ours, plus `data` signed. */
  baggage(host: string, existing: HeaderValue, data: OutgoingData | undefined): string | undefined {
    if (existing === undefined && data === undefined) return undefined;
    return this.protocol.outgoingBaggage(host, existing, data);
  }

  /** The signed response header for a caller at `host` (undefined unless it is a trusted peer). */
  responseClaimFor(host: string | undefined, resource: Resource): string | undefined {
    if (!this.protocol.signsFor(host)) return undefined;
    return this.protocol.responseClaim(host, this.outgoing(resource));
  }

  /**
   * The error for body bytes that would carry more than the claim already sent about them
   * (`claimed`: the provenance it described; undefined when the headers left without one). The
   * receiver applies that claim to the whole body, so those bytes must not leave. Not a policy
   * decision: it holds in audit mode too, and is not journalled (the engine records decisions).
   */
  claimExceeded(claimed: ProvenanceSet | undefined, resource: Resource): ProvenanceDeniedError {
    const said = claimed?.sources ?? [];
    const unclaimed = this.engine.contexts.current().provenance.sources.filter((source) => !said.includes(source));
    const reason = `the signed claim already sent to ${resource.uri} does not cover data read since (from ${unclaimed.join(', ') || 'a source it did not name'})`;
    diag.warn(`provenant: ${reason}; the rest of the body is withheld and the connection closed`);
    return this.engine.deniedError({ kind: 'deny', rule: CLAIM_EXCEEDED, reason }, resource);
  }

  /** The resource data from a caller is read from: its service when verified, else `fallback` (tcp://peer). */
  callerOf(verdict: Verdict, fallback: Resource): Resource {
    return verdict.trusted ? this.engine.resources.service(verdict.claim.service, verdict.claim.location) : fallback;
  }

  /**
   * Data from `resource` enters the current context with what `verdict` says about it. A verified
   * claim brings its labels and sources (and only those: the peer's configured labels are what it
   * may receive); an unverified one (or none, when `absentIsUntrusted`) brings the peer's configured
   * labels, the lowest integrity and at least the confidentiality it claimed.
   */
  read(resource: Resource, verdict: Verdict, attributes: FlowOptions['attributes'], absentIsUntrusted: boolean): void {
    if (verdict.trusted) {
      const { provenance, linkTo } = this.claimedData(verdict.claim);
      if (provenance) {
        // The claim's labels, not lowered or raised by the peer's configured (destination) labels.
        this.engine.read(
          resource,
          undefined,
          linkTo ? { provenance, linkTo, attributes, vouched: true } : { provenance, attributes, vouched: true },
        );
        return;
      }
      this.engine.read(resource, undefined, { provenance: this.untrustedSet(verdict.claim.labels), attributes });
      return;
    }
    if (verdict.claimed === undefined && !absentIsUntrusted) {
      this.engine.read(resource, undefined, { attributes });
      return;
    }
    this.engine.read(resource, undefined, { provenance: this.untrustedSet(verdict.claimed), attributes });
  }

  /** A verified claim as a provenance set (null when it names levels this node does not know) and its write span. */
  private claimedData(claim: ProvenanceClaim): ClaimedData {
    let data = this.claimed.get(claim);
    if (data === undefined) {
      data = {
        provenance: verifiedData(this.engine.sets, this.engine.schema, claim.labels, claim.sources) ?? null,
        linkTo: this.protocol.parseSpanReference(claim.writeSpan),
      };
      this.claimed.set(claim, data);
    }
    return data;
  }

  private untrustedSet(claimed: ClaimedLabels | undefined): ProvenanceSet {
    // The common case (a caller without any claim) is one set: intern it once, not per request.
    if (claimed === undefined) return (this.unclaimed ??= this.buildUntrustedSet(undefined));
    return this.buildUntrustedSet(claimed);
  }

  private buildUntrustedSet(claimed: ClaimedLabels | undefined): ProvenanceSet {
    return unverifiedData(this.engine.sets, this.engine.schema, claimed);
  }
}
