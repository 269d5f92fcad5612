/**
 * Cross-service propagation over HTTP/2, through the same PeerFlows (hence PeerProtocol) and
 * ResponseClaim as HTTP/1. HTTP/2 submits a stream's HEADERS when `session.request()` or
 * `stream.respond()` runs, so that is where a claim is fixed: a request gets traceparent and the
 * app's baggage merged with a signed claim (a trusted peer) or stripped of provenant members
 * (anyone else); a trusted caller's response gets the signed `provenant-baggage` header. A later
 * body write whose context read more than the claim says is refused (rule `claim-exceeded`).
 */
import type http2 from 'node:http2';
import type { FlowEngine } from '../../engine/flow-engine.js';
import type { ProvenanceSet } from '../../provenance/provenance-set.js';
import type { Resource } from '../../provenance/resource.js';
import type { HeaderValue } from '../../provenance/peer-claim.js';
import { RESPONSE_CLAIM_HEADER, type PeerFlows } from '../net/peer-flows.js';
import type { ClaimCarrier } from '../net/response-claim.js';
import { outgoingEvidence } from '../net/monitor-gate.js';
import { EVIDENCE_HEADER } from '../../monitor/evidence.js';

/** Headers as `request()`/`respond()` take them: an object, or a flat raw [name, value, ...] array. */
export type Headers = Record<string, unknown> | unknown[];

/** A server stream's response, with the headers of the `respond()` call under way (if any). */
export interface PendingResponse {
  readonly stream: http2.Http2Stream;
  readonly headers: Headers | undefined;
}

/** The claim goes into the headers `respond()` is about to submit; once submitted, nothing rewrites it. */
export const HTTP2_RESPONSE: ClaimCarrier<PendingResponse> = {
  headersSent: (response) => response.headers === undefined || headersSent(response.stream),
  setClaim: (response, value) => {
    if (response.headers !== undefined) setHeader(response.headers, RESPONSE_CLAIM_HEADER, value);
  },
  pendingClaim: () => undefined,
};

/**
 * The headers for a request to `host` (origin `resource`) from the current context: a copy of
 * `given` with traceparent (unless set) and the merged baggage; `claimed` is the provenance the
 * signed claim describes, undefined when none is sent.
 */
export function requestHeaders(
  engine: FlowEngine,
  flows: PeerFlows,
  host: string,
  resource: Resource,
  given: unknown,
): { headers: Headers; claimed: ProvenanceSet | undefined } {
  const headers = copyHeaders(given);
  if (getHeader(headers, 'traceparent') === undefined) {
    const span = engine.writeSpan(resource);
    if (span) setHeader(headers, 'traceparent', flows.protocol.formatTraceparent(span));
  }
  const claim = flows.claimFor(host, resource);
  const baggage = flows.baggage(host, getHeader(headers, 'baggage'), claim);
  removeHeader(headers, 'baggage');
  if (baggage !== undefined) setHeader(headers, 'baggage', baggage);
  // A trusted peer also gets the context's monitor evidence, as over HTTP/1.
  const evidence = claim === undefined ? undefined : outgoingEvidence(engine);
  if (evidence !== undefined) setHeader(headers, EVIDENCE_HEADER, evidence);
  return { headers, claimed: claim === undefined ? undefined : engine.contexts.current().provenance };
}

/** True when data of `current` is all the claim about `claimed` announced. */
export function claimCovers(engine: FlowEngine, claimed: ProvenanceSet, current: ProvenanceSet): boolean {
  return current === claimed || engine.sets.union(claimed, current) === claimed;
}

/** True once a stream's HEADERS were submitted (server streams say so; a client's go with request()). */
export function headersSent(stream: http2.Http2Stream): boolean {
  return (stream as http2.Http2Stream & { headersSent?: boolean }).headersSent === true;
}

/** A copy of the headers `respond()`/`request()` got, so adding ours never changes the app's object. */
export function copyHeaders(given: unknown): Headers {
  if (Array.isArray(given)) return [...(given as unknown[])];
  return typeof given === 'object' && given !== null ? { ...(given as Record<string, unknown>) } : {};
}

export function getHeader(headers: Headers, name: string): HeaderValue {
  const values: string[] = [];
  const add = (value: unknown): void => {
    // Node takes a string, a number or an array of strings; anything else it refuses itself.
    if (Array.isArray(value)) values.push(...value.map(String));
    else if (typeof value === 'string' || typeof value === 'number') values.push(String(value));
  };
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) if (String(headers[i]).toLowerCase() === name) add(headers[i + 1]);
  } else {
    for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) add(value);
  }
  if (values.length === 0) return undefined;
  return values.length === 1 ? values[0] : values;
}

function removeHeader(headers: Headers, name: string): void {
  if (Array.isArray(headers)) {
    for (let i = headers.length - 2; i >= 0; i -= 2) if (String(headers[i]).toLowerCase() === name) headers.splice(i, 2);
    return;
  }
  for (const key of Object.keys(headers)) if (key.toLowerCase() === name) delete headers[key];
}

export function setHeader(headers: Headers, name: string, value: string): void {
  removeHeader(headers, name);
  if (Array.isArray(headers)) headers.push(name, value);
  else headers[name] = value;
}
