/**
 * The bridge between propagation (claims, verdicts) and the flow engine (resources, provenance
 * sets, reads): what data from a peer brings into a context, and what a context tells a peer.
 */
import type { Attributes, SpanContext } from '@opentelemetry/api';
import type { FlowEngine } from '../../engine/flow-engine.js';
import { unverifiedData, verifiedData } from '../../engine/claimed-data.js';
import type { ProvenanceSet } from '../../provenance/provenance-set.js';
import type { Resource } from '../../provenance/resource.js';
import type { ProvenanceClaim } from '../../propagation/claim.js';
import type { ClaimedLabels, OutgoingData, ProvenancePropagator, Verdict } from '../../propagation/propagator.js';
import { parseSpanReference, spanReference } from '../../propagation/traceparent.js';

/** Header carrying the server's signed claim about a response body (README: wire format). */
export const RESPONSE_CLAIM_HEADER = 'provenant-baggage';

export class PeerFlows {
  private unclaimed: ProvenanceSet | undefined;

  constructor(
    private readonly engine: FlowEngine,
    readonly propagator: ProvenancePropagator,
  ) {}

  /** What the current context would tell a peer about data flowing to `resource`. */
  outgoing(resource: Resource): OutgoingData {
    const provenance = this.engine.contexts.current().provenance;
    const data: OutgoingData = { labels: this.engine.schema.toPublic(provenance.labels), sources: provenance.sources };
    const span = this.engine.writeSpan(resource);
    if (span) data.writeSpan = spanReference(span);
    return data;
  }

  /** The `baggage` header for a request from the current context to `host`. */
  baggageFor(host: string, existing: string | readonly string[] | undefined, resource: Resource): string | undefined {
    return this.baggage(host, existing, this.claimFor(host, resource));
  }

  /** What a request from the current context to `host` tells it; undefined unless we sign for `host`. */
  claimFor(host: string, resource: Resource): OutgoingData | undefined {
    return this.propagator.signsFor(host) ? this.outgoing(resource) : undefined;
  }

  /** The `baggage` header for `host`: the members of `existing` that are not ours, plus `data` signed. */
  baggage(host: string, existing: string | readonly string[] | undefined, data: OutgoingData | undefined): string | undefined {
    if (existing === undefined && data === undefined) return undefined;
    return this.propagator.outgoingBaggage(host, existing, data);
  }

  /** The signed response header for a caller at `host` (undefined unless it is a trusted peer). */
  responseClaimFor(host: string | undefined, resource: Resource): string | undefined {
    if (!this.propagator.signsFor(host)) return undefined;
    return this.propagator.responseClaim(host, this.outgoing(resource));
  }

  /** The resource data from a caller is read from: its service when verified, else `fallback` (tcp://peer). */
  callerOf(verdict: Verdict, fallback: Resource): Resource {
    return verdict.trusted ? this.engine.resources.service(verdict.claim.service, verdict.claim.location) : fallback;
  }

  /**
   * Data from `resource` enters the current context with what `verdict` says about it. A verified
   * claim brings its labels and sources; an unverified one (or none, when `absentIsUntrusted`)
   * brings the lowest integrity and at least the confidentiality it claimed.
   */
  read(resource: Resource, verdict: Verdict, attributes: Attributes, absentIsUntrusted: boolean): void {
    if (verdict.trusted) {
      const provenance = this.claimSet(verdict.claim);
      if (provenance) {
        const linkTo: SpanContext | undefined = parseSpanReference(verdict.claim.writeSpan);
        this.engine.read(resource, undefined, linkTo ? { provenance, linkTo, attributes } : { provenance, attributes });
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

  /** A verified claim as a provenance set; undefined when it names levels this node does not know. */
  private claimSet(claim: ProvenanceClaim): ProvenanceSet | undefined {
    return verifiedData(this.engine.sets, this.engine.schema, claim.labels, claim.sources);
  }

  private untrustedSet(claimed: ClaimedLabels | undefined): ProvenanceSet {
    // The common case (a caller without any claim) is one set: intern it once, not per request.
    if (claimed === undefined) return (this.unclaimed ??= unverifiedData(this.engine.sets, this.engine.schema, undefined));
    return unverifiedData(this.engine.sets, this.engine.schema, claimed);
  }
}
