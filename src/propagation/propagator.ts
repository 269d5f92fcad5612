/**
 * Cross-service provenance: builds the signed `provenant.*` baggage members for outgoing requests
 * (only to trusted peers; stripped everywhere else) and judges incoming ones. Anything that does
 * not verify is reported untrusted together with what it claimed, so callers can keep data from it
 * at least as confidential as claimed while giving it the lowest integrity. The runtime hands it
 * to the network instrumentation, which sees it only as its `PeerProtocol` (matched structurally:
 * propagation does not import instrumentation).
 */
import type { ClaimedLabels, HeaderValue, OutgoingData, ProvenanceClaim, Received, Verdict } from '../provenance/peer-claim.js';
import {
  BAGGAGE_MAX_MEMBER_BYTES,
  BAGGAGE_MAX_MEMBERS,
  BAGGAGE_MAX_TOTAL_BYTES,
  byteLength,
  splitBaggage,
  type BaggageMember,
} from './baggage.js';
import { canonicalForm, CLAIM_PREFIX, claimedLabels, decodeClaim, encodeClaim, readClaimFields, type ClaimFields } from './claim.js';
import { ClaimSigner } from './signing.js';
import { formatTraceparent, parseSpanReference, parseTraceparent, spanReference } from './traceparent.js';
import { PeerList, RateLimitedWarnings } from './trust.js';

/** Bytes provenant members may use, leaving at least half of the W3C total for user baggage. */
export const CLAIM_BUDGET_BYTES = 4096;
/** Least budget a claim gets even when user baggage is large (labels, digest, signature). */
const MIN_CLAIM_BUDGET_BYTES = 1024;
/** Clock skew tolerated for claims issued "in the future". */
const MAX_CLOCK_SKEW_SECONDS = 60;

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

  /** W3C Trace Context, so a callee's lineage spans join the caller's trace. */
  readonly formatTraceparent = formatTraceparent;
  readonly parseTraceparent = parseTraceparent;
  /** The compact `<trace-id>-<span-id>` a claim names the sender's write span by. */
  readonly spanReference = spanReference;
  readonly parseSpanReference = parseSpanReference;

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
  outgoingBaggage(host: string, existing: HeaderValue, data: OutgoingData | undefined): string | undefined {
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
  hasClaims(header: HeaderValue): boolean {
    if (header === undefined) return false;
    return (typeof header === 'string' ? header : header.join(',')).includes(CLAIM_PREFIX);
  }

  /** Judge the provenant members of an incoming `header` from `peer` (remote address or dialled host). */
  verify(peer: string | undefined, header: HeaderValue): Verdict {
    return this.receive(peer, header).verdict;
  }

  /**
   * `verify`, plus the header without provenant members (`rest`, undefined when nothing else is
   * left) for a receiver that must stop claims from travelling further. The header is split once.
   */
  receive(peer: string | undefined, header: HeaderValue): Received {
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
    return this.verifySigned(fields, claimed);
  }

  /** `data` as one signed claim (the environment claim a child process starts with); undefined without a key. */
  signedClaim(data: OutgoingData, budgetBytes: number): string | undefined {
    return this.signer === undefined ? undefined : this.encode(data, budgetBytes).join(',');
  }

  /** The verdict on a claim that comes with no peer to trust (a child's environment claim): key, signature, form and age. */
  verifyClaim(text: string, budgetBytes: number): Verdict {
    const members = splitBaggage(text);
    if (members.length === 0 || members.some((member) => !member.key.startsWith(CLAIM_PREFIX))) {
      return { trusted: false, reason: 'malformed', claimed: 'unreadable' };
    }
    const fields = readClaimFields(members);
    if (fields === 'malformed') return { trusted: false, reason: 'malformed', claimed: 'unreadable' };
    const claimed = claimedLabels(fields);
    if (byteLength(text) > budgetBytes) return { trusted: false, reason: 'oversized', claimed };
    return this.verifySigned(fields, claimed);
  }

  private verifySigned(fields: ClaimFields, claimed: ClaimedLabels): Verdict {
    const signature = fields.get('sig');
    const keyId = fields.get('kid');
    if (signature === undefined || keyId === undefined) return { trusted: false, reason: 'unsigned', claimed };
    if (this.signer === undefined) return { trusted: false, reason: 'no-key', claimed };
    if (keyId !== this.signer.keyId) return { trusted: false, reason: 'unknown-key', claimed };
    if (!this.signer.verify(canonicalForm(fields), signature)) return { trusted: false, reason: 'bad-signature', claimed };
    const claim = decodeClaim(fields);
    if (claim === undefined) return { trusted: false, reason: 'malformed', claimed };
    const age = this.now() / 1000 - claim.issuedAt;
    if (age > this.options.maxAgeSeconds || age < -MAX_CLOCK_SKEW_SECONDS) return { trusted: false, reason: 'stale', claimed };
    return { trusted: true, claim };
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
