/**
 * The signed claim a response makes to a trusted caller about its body, kept true for the whole
 * body, over HTTP/1 and HTTP/2 alike (a `ClaimCarrier` says how each sets its header). The caller
 * applies the claim to every byte, so it must describe what the request context holds when the
 * header bytes actually leave, and no later byte may carry more. HTTP/1 writes a response's
 * header block only with its first body byte (or on flushHeaders): until then the claim is set,
 * or rewritten in the stored block when writeHead already ran. HTTP/2 submits its HEADERS frame
 * at `respond()`, so the claim is fixed there. Once it has left, a write whose context read
 * anything since is refused (connection closed or stream reset), so the caller sees a failed
 * response, never a complete body labelled lower than it is.
 */
import type http from 'node:http';
import type { ProvenanceDeniedError } from '../../errors.js';
import type { ProvenanceSet } from '../../provenance/provenance-set.js';
import type { Resource } from '../../provenance/resource.js';
import { RESPONSE_CLAIM_HEADER, type PeerFlows } from './peer-flows.js';

/** How a response of some protocol carries the claim header. */
export interface ClaimCarrier<T> {
  /** True once the header block has left (or can no longer change). */
  headersSent(response: T): boolean;
  /** Puts the claim in the headers still to be sent. */
  setClaim(response: T, value: string): void;
  /** When a stored header block holding the claim `previous` has not left yet, a function rewriting it; else undefined. */
  pendingClaim(response: T, previous: string | undefined): ((value: string) => void) | undefined;
}

/** Node's pending header block: built by writeHead, sent (and flagged) with the first body byte. */
interface PendingHeader {
  _header?: unknown;
  _headerSent?: unknown;
}

/** An HTTP/1 `ServerResponse`: setHeader until writeHead, then the stored block until its first byte. */
export const HTTP1_RESPONSE: ClaimCarrier<http.ServerResponse> = {
  headersSent: (res) => res.headersSent,
  setClaim: (res, value) => res.setHeader(RESPONSE_CLAIM_HEADER, value),
  pendingClaim,
};

export class ResponseClaim<T> {
  /** The provenance the claim in the headers describes; undefined until one is set. */
  private covered: ProvenanceSet | undefined;
  private value: string | undefined;

  constructor(
    private readonly flows: PeerFlows,
    private readonly host: string | undefined,
    private readonly caller: Resource,
    private readonly carrier: ClaimCarrier<T>,
  ) {}

  /**
   * Called in the request's context before header or `body` bytes are written: true when the
   * claim covers what the context holds now (setting or rewriting it while it has not left).
   */
  covers(response: T, provenance: ProvenanceSet, body: boolean): boolean {
    if (provenance === this.covered) return true;
    const sent = this.carrier.headersSent(response);
    const replace = sent ? this.carrier.pendingClaim(response, this.value) : undefined;
    // Once the claim has left, only body bytes can carry more than it says.
    if (sent && replace === undefined) return !body;
    const value = this.flows.responseClaimFor(this.host, this.caller);
    if (value === undefined) return true;
    if (replace === undefined) this.carrier.setClaim(response, value);
    else replace(value);
    this.covered = provenance;
    this.value = value;
    return true;
  }

  /** The error for a write the claim already sent does not cover. */
  exceeded(): ProvenanceDeniedError {
    return this.flows.claimExceeded(this.covered, this.caller);
  }
}

/**
 * When writeHead stored a header block holding the claim `previous` and Node has not sent it yet,
 * a function replacing that claim in it; else undefined.
 */
function pendingClaim(res: http.ServerResponse, previous: string | undefined): ((value: string) => void) | undefined {
  const node = res as unknown as PendingHeader;
  const block = node._header;
  if (previous === undefined || node._headerSent !== false || typeof block !== 'string') return undefined;
  const line = `\r\n${RESPONSE_CLAIM_HEADER}: ${previous}\r\n`;
  const at = block.indexOf(line);
  if (at === -1) return undefined;
  return (value) => {
    node._header = `${block.slice(0, at)}\r\n${RESPONSE_CLAIM_HEADER}: ${value}\r\n${block.slice(at + line.length)}`;
  };
}
