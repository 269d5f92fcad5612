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
    const replace = res.headersSent ? pendingClaim(res, this.value) : undefined;
    // Once the claim has left, only body bytes can carry more than it says.
    if (res.headersSent && replace === undefined) return !body;
    const value = this.flows.responseClaimFor(this.host, this.caller);
    if (value === undefined) return true;
    if (replace === undefined) res.setHeader(RESPONSE_CLAIM_HEADER, value);
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
