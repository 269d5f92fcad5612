/**
 * All the network instrumentation knows of cross-service propagation: which hosts get signed
 * claims, the headers that carry them, and a verdict on the claims it receives. It never builds,
 * signs or parses a claim itself. The propagation module implements it (the runtime passes it in as
 * `InstrumentationContext.peers`); the plain data it speaks lives in src/provenance/peer-claim.ts.
 */
import type { SpanContext } from '@opentelemetry/api';
import type { HeaderValue, LocalEndpoint, OutgoingData, Received, Verdict } from '../../provenance/peer-claim.js';

export interface PeerProtocol {
  /** True when signed claims go to `host` (a key is set and `host` is a trusted peer). */
  signsFor(host: string | undefined): boolean;
  /**
   * The `baggage` header for a request to `host`: the members of `existing` that are not claims,
   * plus `data` as a signed claim when `host` is a trusted peer; undefined when it should be absent.
   */
  outgoingBaggage(host: string, existing: HeaderValue, data: OutgoingData | undefined): string | undefined;
  /** The signed response header for a caller at `host`, or undefined when it is not a trusted peer. */
  responseClaim(host: string | undefined, data: OutgoingData): string | undefined;
  /** True when `header` holds claim members (they must not travel further unverified). */
  hasClaims(header: HeaderValue): boolean;
  /** The verdict on the claim in an incoming `header` from `peer` (remote address or dialled host). */
  verify(peer: string | undefined, header: HeaderValue): Verdict;
  /** `verify`, plus the header without the claim, for a receiver that must not pass the claim on. */
  receive(peer: string | undefined, header: HeaderValue, local?: LocalEndpoint): Received;
  formatTraceparent(span: SpanContext): string;
  parseTraceparent(header: string | string[] | undefined): SpanContext | undefined;
  /** `<trace-id>-<span-id>`, how a claim names the sender's write span. */
  spanReference(span: SpanContext): string;
  parseSpanReference(reference: string | undefined): SpanContext | undefined;
}
