/**
 * Cross-service provenance: builds the signed `provenant.*` baggage members for outgoing requests
 * (only to trusted peers; stripped everywhere else) and judges incoming ones. Anything that does
 * not verify is reported untrusted together with what it claimed, so callers can keep data from it
 * at least as confidential as claimed while giving it the lowest integrity.
 */
import type { PublicLabels } from '../provenance/labels.js';
import {
  BAGGAGE_MAX_MEMBER_BYTES,
  BAGGAGE_MAX_MEMBERS,
  BAGGAGE_MAX_TOTAL_BYTES,
  byteLength,
  splitBaggage,
  type BaggageMember,
} from './baggage.js';
import { CLAIM_PREFIX, claimedLabels, encodeClaim, readClaimFields, type ProvenanceClaim } from './claim.js';
import { verifySignedClaim } from './signed-claim.js';
import { ClaimSigner } from './signing.js';
import { PeerList, RateLimitedWarnings } from './trust.js';

/** Bytes provenant members may use, leaving at least half of the W3C total for user baggage. */
export const CLAIM_BUDGET_BYTES = 4096;
/** Least budget a claim gets even when user baggage is large (labels, digest, signature). */
const MIN_CLAIM_BUDGET_BYTES = 1024;

export type UntrustedReason =
  'unsigned' | 'malformed' | 'oversized' | 'stale' | 'unknown-key' | 'bad-signature' | 'untrusted-peer' | 'no-key';

/** What an unverified claim said: labels when readable, `unreadable` when not even those parse. */
export type ClaimedLabels = Partial<PublicLabels> | 'unreadable';

export type Verdict =
  | { readonly trusted: true; readonly claim: ProvenanceClaim }
  | { readonly trusted: false; readonly reason: UntrustedReason; readonly claimed?: ClaimedLabels };

/** The data an outgoing request or response carries, as the sender's context knows it. */
export interface OutgoingData {
  labels: PublicLabels;
  sources: readonly string[];
  /** `<trace-id>-<span-id>` of the write span of this flow. */
  writeSpan?: string;
}

export interface PropagatorOptions {
  service: string;
  location?: string | undefined;
  /** PROVENANT_KEY; without it nothing is signed and nothing is trusted. */
  key?: string | undefined;
  peers: readonly string[];
  maxAgeSeconds: number;
  /** Milliseconds since the epoch (tests). */
  now?: () => number;
}

const NO_CLAIM: Verdict = Object.freeze({ trusted: false, reason: 'unsigned' });

/** What a receiver learns from an incoming header: the verdict, and the header without our members. */
export interface Received {
  verdict: Verdict;
  /** False when the header held no provenant members (it can stay as it is). */
  claims: boolean;
  rest: string | undefined;
}

const NOTHING_RECEIVED: Received = Object.freeze({ verdict: NO_CLAIM, claims: false, rest: undefined });

export class ProvenancePropagator {
  private readonly signer: ClaimSigner | undefined;
  private readonly peers: PeerList;
  private readonly warnings: RateLimitedWarnings;
  private readonly now: () => number;

  constructor(private readonly options: PropagatorOptions) {
    this.signer = options.key ? new ClaimSigner(options.key) : undefined;
    this.peers = new PeerList(options.peers);
    this.now = options.now ?? Date.now;
    this.warnings = new RateLimitedWarnings(this.now);
  }

  isTrustedPeer(host: string | undefined): boolean {
    return this.peers.includes(host);
  }

  /** True when our signed members go to `host`: we have a key and it is a trusted peer. */
  signsFor(host: string | undefined): boolean {
    return this.signer !== undefined && this.peers.includes(host);
  }

  /**
   * The `baggage` header for a request to `host`: every member of `existing` that is not ours,
   * unchanged and in order, plus our signed members when `host` is a trusted peer. Undefined
   * when the header should be absent.
   */
  outgoingBaggage(host: string, existing: string | readonly string[] | undefined, data: OutgoingData | undefined): string | undefined {
    const userMembers = splitBaggage(existing).filter((member) => !member.key.startsWith(CLAIM_PREFIX));
    const parts = userMembers.map((member) => member.raw);
    if (data !== undefined && this.signsFor(host)) {
      const userBytes = parts.reduce((sum, raw) => sum + byteLength(raw) + 1, 0);
      const budget = Math.max(MIN_CLAIM_BUDGET_BYTES, Math.min(CLAIM_BUDGET_BYTES, BAGGAGE_MAX_TOTAL_BYTES - userBytes));
      parts.push(...this.encode(data, budget));
    }
    return parts.length === 0 ? undefined : parts.join(',');
  }

  /** Value of the signed response header for a caller at `host`, or undefined when it is not a trusted peer. */
  responseClaim(host: string | undefined, data: OutgoingData): string | undefined {
    if (!this.signsFor(host)) return undefined;
    return this.encode(data, CLAIM_BUDGET_BYTES).join(',');
  }

  /** True when `header` holds provenant members (they must not travel further unverified). */
  hasClaims(header: string | readonly string[] | undefined): boolean {
    if (header === undefined) return false;
    return (typeof header === 'string' ? header : header.join(',')).includes(CLAIM_PREFIX);
  }

  /** Judge the provenant members of an incoming `header` from `peer` (remote address or dialled host). */
  verify(peer: string | undefined, header: string | readonly string[] | undefined): Verdict {
    return this.receive(peer, header).verdict;
  }

  /**
   * `verify`, plus the header without provenant members (`rest`, undefined when nothing else is
   * left) for a receiver that must stop claims from travelling further. The header is split once.
   */
  receive(peer: string | undefined, header: string | readonly string[] | undefined): Received {
    if (!this.hasClaims(header)) return NOTHING_RECEIVED;
    const members = splitBaggage(header);
    const ours: BaggageMember[] = [];
    const others: string[] = [];
    for (const member of members) {
      if (member.key.startsWith(CLAIM_PREFIX)) ours.push(member);
      else others.push(member.raw);
    }
    if (ours.length === 0) return NOTHING_RECEIVED;
    const verdict = this.judge(peer, members, ours);
    if (!verdict.trusted)
      this.warnings.warn(
        verdict.reason,
        `untrusted provenance claim from ${peer ?? 'an unknown peer'} (${verdict.reason}); its data is treated as untrusted`,
      );
    return { verdict, claims: true, rest: others.length === 0 ? undefined : others.join(',') };
  }

  private judge(peer: string | undefined, members: readonly BaggageMember[], ours: readonly BaggageMember[]): Verdict {
    const fields = readClaimFields(ours);
    if (fields === 'malformed') return { trusted: false, reason: 'malformed', claimed: 'unreadable' };
    const claimed = claimedLabels(fields);
    const totalBytes = members.reduce((sum, member) => sum + byteLength(member.raw) + 1, 0);
    if (
      totalBytes > BAGGAGE_MAX_TOTAL_BYTES ||
      members.length > BAGGAGE_MAX_MEMBERS ||
      ours.some((member) => byteLength(member.raw) > BAGGAGE_MAX_MEMBER_BYTES)
    ) {
      return { trusted: false, reason: 'oversized', claimed };
    }
    if (!this.isTrustedPeer(peer)) return { trusted: false, reason: 'untrusted-peer', claimed };
    const verified = verifySignedClaim(fields, this.signer, this.now(), this.options.maxAgeSeconds);
    return 'claim' in verified ? { trusted: true, claim: verified.claim } : { trusted: false, reason: verified.problem, claimed };
  }

  private encode(data: OutgoingData, budget: number): string[] {
    const claim: ProvenanceClaim = {
      service: this.options.service,
      labels: data.labels,
      sources: [...data.sources],
      issuedAt: Math.floor(this.now() / 1000),
    };
    if (this.options.location !== undefined) claim.location = this.options.location;
    if (data.writeSpan !== undefined) claim.writeSpan = data.writeSpan;
    return encodeClaim(claim, this.signer as ClaimSigner, budget);
  }
}
