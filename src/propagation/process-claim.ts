/**
 * The claim a Node child under provenant starts with: its parent's labels and sources for the
 * data handed to it (argv, environment, stdin), signed like baggage and carried in one
 * environment variable. The child trusts it only when it verifies with the shared key and is
 * fresh; anything else is read as unverified (at least as confidential as claimed, lowest
 * integrity). Without a key no claim is made (README: child processes).
 */
import type { PublicLabels } from '../provenance/labels.js';
import { byteLength, splitBaggage } from './baggage.js';
import type { ProvenanceClaim, Verdict } from '../provenance/peer-claim.js';
import { CLAIM_PREFIX, claimedLabels, encodeClaim, readClaimFields } from './claim.js';
import { verifySignedClaim } from './signed-claim.js';
import { ClaimSigner } from './signing.js';

export const PARENT_CLAIM_VARIABLE = 'PROVENANT_PARENT_CLAIM';
/** Linux allows 128 KiB per environment string; a longer source list is sent as a digest. */
const CLAIM_BUDGET_BYTES = 32 * 1024;

export interface ProcessClaimOptions {
  key?: string | undefined;
  service: string;
  location?: string | undefined;
  maxAgeSeconds: number;
  /** Milliseconds since the epoch (tests). */
  now?: () => number;
}

export class ProcessClaims {
  private readonly signer: ClaimSigner | undefined;
  private readonly now: () => number;

  constructor(private readonly options: ProcessClaimOptions) {
    this.signer = options.key ? new ClaimSigner(options.key) : undefined;
    this.now = options.now ?? Date.now;
  }

  /** The signed claim for `data`, or undefined without a key. */
  encode(data: { labels: PublicLabels; sources: readonly string[] }): string | undefined {
    if (this.signer === undefined) return undefined;
    const claim: ProvenanceClaim = {
      service: this.options.service,
      labels: data.labels,
      sources: [...data.sources],
      issuedAt: Math.floor(this.now() / 1000),
    };
    if (this.options.location !== undefined) claim.location = this.options.location;
    return encodeClaim(claim, this.signer, CLAIM_BUDGET_BYTES).join(',');
  }

  verify(text: string): Verdict {
    const members = splitBaggage(text);
    if (members.length === 0 || members.some((member) => !member.key.startsWith(CLAIM_PREFIX))) {
      return { trusted: false, reason: 'malformed', claimed: 'unreadable' };
    }
    const fields = readClaimFields(members);
    if (fields === 'malformed') return { trusted: false, reason: 'malformed', claimed: 'unreadable' };
    const claimed = claimedLabels(fields);
    if (byteLength(text) > CLAIM_BUDGET_BYTES) return { trusted: false, reason: 'oversized', claimed };
    const verified = verifySignedClaim(fields, this.signer, this.now(), this.options.maxAgeSeconds);
    return 'claim' in verified ? { trusted: true, claim: verified.claim } : { trusted: false, reason: verified.problem, claimed };
  }
}
