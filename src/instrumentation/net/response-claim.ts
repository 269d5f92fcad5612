/**
 * The signed claim a response makes to a trusted caller about its body, kept true for the whole
 * body. The caller applies it to every byte, so it must describe what the request context holds
 * when the header bytes actually leave, and no later byte may carry more. Node writes a
 * response's header block only with its first body byte (or on flushHeaders): until then the
 * claim is set, or rewritten in the stored block when writeHead already ran; once it has left,
 * a write whose context read anything since is refused and the connection closed, so the caller
 * sees a failed response, never a complete body labelled lower than it is.
 */
import type http from 'node:http';
import type { ProvenanceDeniedError } from '../../errors.js';
import type { ProvenanceSet } from '../../provenance/provenance-set.js';
import type { Resource } from '../../provenance/resource.js';
import { RESPONSE_CLAIM_HEADER, type PeerFlows } from './peer-flows.js';

/** Node's pending header block: built by writeHead, sent (and flagged) with the first body byte. */
interface PendingHeader {
  _header?: unknown;
  _headerSent?: unknown;
}

export class ResponseClaim {
  /** The provenance the claim in the headers describes; undefined until one is set. */
  private covered: ProvenanceSet | undefined;
  private value: string | undefined;

  constructor(
    private readonly flows: PeerFlows,
    private readonly host: string | undefined,
    private readonly caller: Resource,
  ) {}

  /**
   * Called in the request's context before header or `body` bytes are written: true when the
   * claim covers what the context holds now (setting or rewriting it while it has not left).
   */
  covers(res: http.ServerResponse, provenance: ProvenanceSet, body: boolean): boolean {
    if (provenance === this.covered) return true;
    const value = this.flows.responseClaimFor(this.host, this.caller);
    if (value === undefined) return true;
    if (!res.headersSent) res.setHeader(RESPONSE_CLAIM_HEADER, value);
    // Once the claim has left, only body bytes can carry more than it says.
    else if (this.value === undefined || !rewritePendingHeader(res, this.value, value)) return !body;
    this.covered = provenance;
    this.value = value;
    return true;
  }

  /** The error for a write the claim already sent does not cover. */
  exceeded(): ProvenanceDeniedError {
    return this.flows.claimExceeded(this.covered, this.caller);
  }
}

/** Replaces the claim in a header block that has not been sent; false when it was sent or is not ours to edit. */
function rewritePendingHeader(res: http.ServerResponse, previous: string, value: string): boolean {
  const pending = res as unknown as PendingHeader;
  if (pending._headerSent !== false || typeof pending._header !== 'string') return false;
  const line = `\r\n${RESPONSE_CLAIM_HEADER}: ${previous}\r\n`;
  const at = pending._header.indexOf(line);
  if (at === -1) return false;
  pending._header = `${pending._header.slice(0, at)}\r\n${RESPONSE_CLAIM_HEADER}: ${value}\r\n${pending._header.slice(at + line.length)}`;
  return true;
}
