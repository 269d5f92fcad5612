/**
 * Cross-service provenance: builds the signed `provenant.*` baggage members for outgoing requests
 * (only to trusted peers; stripped everywhere else) and judges incoming ones. Anything that does
 * not verify is reported untrusted together with what it claimed, so callers can keep data from it
 * at least as confidential as claimed while giving it the lowest integrity. The runtime hands it
 * to the network instrumentation, which sees it only as its `PeerProtocol` (matched structurally:
 * propagation does not import instrumentation). Over 250 lines because the outgoing and incoming
 * halves share the peer list, signer, replay cache and claim budget; the wire codec, signing and
 * trust checks are their own modules.
 */
import { normaliseHost } from '../provenance/host.js';
import type {
  ClaimedLabels,
  HeaderValue,
  LocalEndpoint,
  OutgoingData,
  ProvenanceClaim,
  Received,
  UntrustedReason,
  Verdict,
} from '../provenance/peer-claim.js';
import {
  BAGGAGE_MAX_MEMBER_BYTES,
  BAGGAGE_MAX_MEMBERS,
  BAGGAGE_MAX_TOTAL_BYTES,
  byteLength,
  splitBaggage,
  type BaggageMember,
} from './baggage.js';
import { BoundedCache } from '../support/bounded-cache.js';
import {
  canonicalForm,
  CLAIM_PREFIX,
  claimedLabels,
  decodeClaim,
  encodeClaim,
  readClaimFields,
  type ClaimDirection,
  type ClaimFields,
  type ClaimSigning,
} from './claim.js';
import type { ServiceIdentity } from './identity.js';
import { ClaimSigner } from './signing.js';
import { formatTraceparent, parseSpanReference, parseTraceparent, spanReference } from './traceparent.js';
import { PeerList, RateLimitedWarnings } from './trust.js';

/** Bytes provenant members may use, leaving at least half of the W3C total for user baggage. */
export const CLAIM_BUDGET_BYTES = 4096;
/** Least budget a claim gets even when user baggage is large (labels, digest, signature). */
const MIN_CLAIM_BUDGET_BYTES = 1024;
/** Clock skew tolerated for claims issued "in the future". */
const MAX_CLOCK_SKEW_SECONDS = 60;
/** Claims remembered for replay detection; a claim older than maxAgeSeconds is refused as stale anyway. */
const REPLAY_CACHE_CLAIMS = 100_000;
/**
 * How long after a receiver first accepts a claim it accepts the same claim again (its clock, not
 * the sender's). A sender reuses a signed claim only within the second it was issued, so every
 * legitimate copy is sent within 1 s of the first; the second second is for transit. A copy later
 * than that is refused as replayed (README: "Across services": a reused claim).
 */
const REUSE_WINDOW_MS = 2000;
/** Signed claims kept for reuse within their second: distinct (labels, sources, audience, span) a second. */
const SIGNED_CLAIMS_CACHED = 1024;

export interface PropagatorOptions {
  service: string;
  location?: string | undefined;
  /** PROVENANT_KEY: the HMAC fallback, used when the service has no identity key. */
  key?: string | undefined;
  /** The service's Ed25519 identity and the peers' keys (PROVENANT_IDENTITY_KEY, trust.identities). */
  identity?: ServiceIdentity | undefined;
  peers: readonly string[];
  maxAgeSeconds: number;
  /** Names (`host` or `host:port`) this service is reached by besides its own address (trust.audience). */
  audience?: readonly string[] | undefined;
  /** Milliseconds since the epoch (tests). */
  now?: () => number;
}

const NO_CLAIM: Verdict = Object.freeze({ trusted: false, reason: 'unsigned' });

const NOTHING_RECEIVED: Received = Object.freeze({ verdict: NO_CLAIM, claims: false, rest: undefined });

/** Incoming claims whose signature verified, kept by header text: a header is at most 8 KiB. */
const CHECKED_CLAIMS_CACHED = 512;

/** An incoming claim whose form, size and signature checked out (what `admit` still judges per arrival). */
interface CheckedClaim {
  readonly fields: ClaimFields;
  readonly claimed: ClaimedLabels;
  /** Undefined when a required field is missing or bad (refused as malformed). */
  readonly claim: ProvenanceClaim | undefined;
  /** `<key id>:<nonce>`, the replay cache's key; undefined without a nonce. */
  readonly once: string | undefined;
  /** The header without provenant's members. */
  readonly rest: string | undefined;
  /** What `receive` returns when this claim is admitted (its one trusted verdict); undefined when malformed. */
  readonly accepted: Received | undefined;
}

export class ProvenancePropagator {
  private readonly hmac: ClaimSigner | undefined;
  /** What signs our claims: the identity key when there is one, else the shared key. */
  private readonly signer: ClaimSigning | undefined;
  /** Verified claims (key id and nonce) and when this receiver first accepted each, in ms. */
  private readonly seen = new BoundedCache<string, number>(REPLAY_CACHE_CLAIMS);
  /** Incoming claims whose signature verified, by header text: verified once, not per arrival. */
  private readonly checked = new BoundedCache<string, CheckedClaim>(CHECKED_CLAIMS_CACHED);
  /**
   * Our signed members by what they say and the second they were issued in: signing once per
   * second, not per message. Admitting repeats: a response per distinct user is signed once and
   * held only in the cache's small window, not through many scavenges.
   */
  private readonly signed = new BoundedCache<string, string>(SIGNED_CLAIMS_CACHED, undefined, { admitRepeats: true });
  private readonly peers: PeerList;
  private readonly warnings: RateLimitedWarnings;
  private readonly now: () => number;

  constructor(private readonly options: PropagatorOptions) {
    this.hmac = options.key ? new ClaimSigner(options.key) : undefined;
    const identity = options.identity;
    const identityKeyId = identity?.identityKeyId;
    this.signer =
      identity !== undefined && identityKeyId !== undefined
        ? { keyId: identityKeyId, alg: 'ed25519', sign: (canonical) => identity.sign(canonical)?.value ?? '' }
        : this.hmac;
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
      parts.push(this.encode(data, budget, 'request'));
    }
    return parts.length === 0 ? undefined : parts.join(',');
  }

  /** Value of the signed response header for a caller at `host`, or undefined when it is not a trusted peer. */
  responseClaim(host: string | undefined, data: OutgoingData): string | undefined {
    if (!this.signsFor(host)) return undefined;
    return this.encode(data, CLAIM_BUDGET_BYTES, 'response');
  }

  /** True when `header` holds provenant members (they must not travel further unverified). */
  hasClaims(header: HeaderValue): boolean {
    if (header === undefined) return false;
    return (typeof header === 'string' ? header : header.join(',')).includes(CLAIM_PREFIX);
  }

  /** Judge the claim in a response's header from `peer` (the dialled host): only a response claim counts. */
  verify(peer: string | undefined, header: HeaderValue): Verdict {
    return this.take(peer, header, 'response').verdict;
  }

  /**
   * `verify`, plus the header without provenant members (`rest`, undefined when nothing else is
   * left) for a receiver that must stop claims from travelling further. The header is split once.
   */
  receive(peer: string | undefined, header: HeaderValue, local?: LocalEndpoint): Received {
    return this.take(peer, header, 'request', local);
  }

  private take(peer: string | undefined, header: HeaderValue, direction: ClaimDirection, local?: LocalEndpoint): Received {
    if (!this.hasClaims(header)) return NOTHING_RECEIVED;
    const text = typeof header === 'string' ? header : (header as readonly string[]).join(',');
    const checked = this.checked.get(text) ?? this.check(peer, text);
    if (!('fields' in checked)) return checked;
    const verdict = this.admit(checked, peer, direction, local);
    if (verdict === checked.accepted?.verdict) return checked.accepted;
    this.warnUntrusted(peer, verdict);
    return { verdict, claims: true, rest: checked.rest };
  }

  /**
   * Form, size and signature of the claim in `text` (a header from `peer`): a claim that passes is
   * kept by its exact text (senders reuse a signed claim within its second, so most arrivals repeat
   * one), the rest is judged by `admit` per arrival. Anything else is the Received to return.
   */
  private check(peer: string | undefined, text: string): CheckedClaim | Received {
    const members = splitBaggage(text);
    const ours: BaggageMember[] = [];
    const others: string[] = [];
    for (const member of members) {
      if (member.key.startsWith(CLAIM_PREFIX)) ours.push(member);
      else others.push(member.raw);
    }
    if (ours.length === 0) return NOTHING_RECEIVED;
    const rest = others.length === 0 ? undefined : others.join(',');
    const refused = (verdict: Verdict): Received => {
      this.warnUntrusted(peer, verdict);
      return { verdict, claims: true, rest };
    };
    const fields = readClaimFields(ours);
    if (fields === 'malformed') return refused({ trusted: false, reason: 'malformed', claimed: 'unreadable' });
    const claimed = claimedLabels(fields);
    const totalBytes = members.reduce((sum, member) => sum + byteLength(member.raw) + 1, 0);
    if (
      totalBytes > BAGGAGE_MAX_TOTAL_BYTES ||
      members.length > BAGGAGE_MAX_MEMBERS ||
      ours.some((member) => byteLength(member.raw) > BAGGAGE_MAX_MEMBER_BYTES)
    ) {
      return refused({ trusted: false, reason: 'oversized', claimed });
    }
    // Before the signature: an untrusted peer costs no verification (and what it sends is not kept).
    if (!this.isTrustedPeer(peer)) return refused({ trusted: false, reason: 'untrusted-peer', claimed });
    const signature = fields.get('sig');
    const keyId = fields.get('kid');
    if (signature === undefined || keyId === undefined) return refused({ trusted: false, reason: 'unsigned', claimed });
    const bad = this.checkSignature(fields, keyId, signature);
    if (bad !== undefined) return refused({ trusted: false, reason: bad, claimed });
    // Only a claim whose signature verified is kept: forged headers cannot fill the cache.
    const claim = decodeClaim(fields);
    const nonce = fields.get('n');
    const checked: CheckedClaim = {
      fields,
      claimed,
      claim,
      once: nonce === undefined ? undefined : `${keyId}:${nonce}`,
      rest,
      accepted: claim === undefined ? undefined : Object.freeze({ verdict: Object.freeze({ trusted: true, claim }), claims: true, rest }),
    };
    this.checked.set(text, checked);
    return checked;
  }

  /**
   * The verdict on a claim whose signature verified, for this arrival: from a trusted peer, the
   * right direction and audience, well-formed, fresh, and not replayed. In the order the checks
   * had before claims were kept, so each refusal names the same reason.
   */
  private admit(checked: CheckedClaim, peer: string | undefined, direction: ClaimDirection, local: LocalEndpoint | undefined): Verdict {
    const { fields, claimed, claim } = checked;
    if (!this.isTrustedPeer(peer)) return { trusted: false, reason: 'untrusted-peer', claimed };
    if (fields.get('dir') !== (direction === 'request' ? 'q' : 's')) return { trusted: false, reason: 'wrong-direction', claimed };
    if (direction === 'request' && local !== undefined && !this.addressedTo(fields.get('aud'), local))
      return { trusted: false, reason: 'wrong-audience', claimed };
    if (claim === undefined || checked.accepted === undefined) return { trusted: false, reason: 'malformed', claimed };
    const now = this.now();
    const age = now / 1000 - claim.issuedAt;
    if (age > this.options.maxAgeSeconds || age < -MAX_CLOCK_SKEW_SECONDS) return { trusted: false, reason: 'stale', claimed };
    if (checked.once === undefined) return { trusted: false, reason: 'replayed', claimed };
    const first = this.seen.get(checked.once);
    // The sender reuses a claim within its second: a copy is accepted only that soon after the first.
    if (first !== undefined && now - first >= REUSE_WINDOW_MS) return { trusted: false, reason: 'replayed', claimed };
    if (first === undefined) this.seen.set(checked.once, now);
    return checked.accepted.verdict;
  }

  private warnUntrusted(peer: string | undefined, verdict: Verdict): void {
    if (verdict.trusted) return;
    this.warnings.warn(
      verdict.reason,
      `untrusted provenance claim from ${peer ?? 'an unknown peer'} (${verdict.reason}); its data is treated as untrusted`,
    );
  }

  /** `data` as one signed claim (the environment claim a child process starts with); undefined without a key. */
  signedClaim(data: OutgoingData, budgetBytes: number): string | undefined {
    return this.signer === undefined ? undefined : this.encode(data, budgetBytes, 'request');
  }

  /**
   * The verdict on a claim that comes with no peer to trust (a child's environment claim):
   * signature, form, age, and its audience: a claim made for `audience` (the parent's pid, which
   * a child can check and another process cannot choose) is refused anywhere else.
   */
  verifyClaim(text: string, budgetBytes: number, audience: string): Verdict {
    const members = splitBaggage(text);
    if (members.length === 0 || members.some((member) => !member.key.startsWith(CLAIM_PREFIX))) {
      return { trusted: false, reason: 'malformed', claimed: 'unreadable' };
    }
    const fields = readClaimFields(members);
    if (fields === 'malformed') return { trusted: false, reason: 'malformed', claimed: 'unreadable' };
    const claimed = claimedLabels(fields);
    if (byteLength(text) > budgetBytes) return { trusted: false, reason: 'oversized', claimed };
    const signature = fields.get('sig');
    const keyId = fields.get('kid');
    if (signature === undefined || keyId === undefined) return { trusted: false, reason: 'unsigned', claimed };
    const checked = this.checkSignature(fields, keyId, signature);
    if (checked !== undefined) return { trusted: false, reason: checked, claimed };
    if (fields.get('aud') !== audience) return { trusted: false, reason: 'wrong-audience', claimed };
    const claim = decodeClaim(fields);
    if (claim === undefined) return { trusted: false, reason: 'malformed', claimed };
    const age = this.now() / 1000 - claim.issuedAt;
    if (age > this.options.maxAgeSeconds || age < -MAX_CLOCK_SKEW_SECONDS) return { trusted: false, reason: 'stale', claimed };
    return { trusted: true, claim };
  }

  /**
   * Whether a request claim was addressed to this receiver: its `aud` (the host:port the sender
   * dialled) is this connection's local address and port, `localhost` on a loopback address, or a
   * name listed in trust.audience (`name` for any port, `name:port` for that port).
   */
  private addressedTo(audience: string | undefined, local: LocalEndpoint): boolean {
    if (audience === undefined) return false;
    const colon = audience.lastIndexOf(':');
    const host = normaliseHost(audience.slice(0, colon));
    const port = Number(audience.slice(colon + 1));
    const names = this.options.audience ?? [];
    if (names.includes(host) || names.includes(`${host}:${port}`)) return true;
    if (port !== local.port) return false;
    const address = normaliseHost(local.address);
    return host === address || (host === 'localhost' && (address === '127.0.0.1' || address === '::1'));
  }

  /** Undefined when the claim's signature verifies: Ed25519 by the key of the service it names, else HMAC with ours. */
  private checkSignature(fields: ReadonlyMap<string, string>, keyId: string, signature: string): UntrustedReason | undefined {
    const canonical = canonicalForm(fields);
    if (fields.get('alg') === 'ed25519') {
      const service = fields.get('svc') ?? '';
      const identity = this.options.identity;
      if (identity === undefined) return 'no-key';
      return identity.verify(service, canonical, { alg: 'ed25519', keyId, value: signature }) ? undefined : 'bad-signature';
    }
    if (fields.get('alg') !== undefined) return 'malformed';
    if (this.hmac === undefined) return 'no-key';
    if (keyId !== this.hmac.keyId) return 'unknown-key';
    return this.hmac.verify(canonical, signature) ? undefined : 'bad-signature';
  }

  /**
   * Our signed members for `data` (joined by commas), signed once per second for what they say:
   * the same labels, sources, write span, audience, direction and budget within one second get the
   * same members (and nonce). Receivers accept such a copy only soon after the first (REUSE_WINDOW_MS).
   */
  private encode(data: OutgoingData, budget: number, direction: ClaimDirection): string {
    const issuedAt = Math.floor(this.now() / 1000);
    const { labels } = data;
    // `dataId` stands for labels and sources exactly, so the key need not spell out the source list.
    const what = data.dataId ?? [labels.confidentiality, labels.integrity, labels.tags, labels.locations, data.sources];
    const key = JSON.stringify([issuedAt, direction, budget, data.audience ?? null, data.writeSpan ?? null, what]);
    const cached = this.signed.get(key);
    if (cached !== undefined) return cached;
    const members = this.sign(data, budget, direction, issuedAt).join(',');
    this.signed.set(key, members);
    return members;
  }

  private sign(data: OutgoingData, budget: number, direction: ClaimDirection, issuedAt: number): string[] {
    const claim: ProvenanceClaim = {
      service: this.options.service,
      labels: data.labels,
      sources: [...data.sources],
      issuedAt,
    };
    if (this.options.location !== undefined) claim.location = this.options.location;
    if (data.writeSpan !== undefined) claim.writeSpan = data.writeSpan;
    if (data.audience !== undefined) claim.audience = data.audience;
    return encodeClaim(claim, this.signer as ClaimSigning, budget, direction);
  }
}
