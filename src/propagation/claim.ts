/**
 * The provenance claim a sender makes about data it sends, and its wire form as `provenant.*`
 * baggage members (README: "Across services: signed baggage"). Encoding picks the bounded source
 * reference: the full source URIs while they fit the budget, else a digest, their count and the
 * sender's write span (where the full list can be looked up in the sender's journal).
 */
import type { PublicLabels } from '../provenance/labels.js';
import type { ProvenanceClaim } from '../provenance/peer-claim.js';
import { formatMember, memberValue, type BaggageMember } from './baggage.js';
import { randomText } from '../support/random-pool.js';
import { sourcesDigest } from '../provenance/sources-digest.js';

export const CLAIM_PREFIX = 'provenant.';
const WIRE_VERSION = '1';

/** Members of a claim, by short key (`c` for `provenant.c`). */
export type ClaimFields = ReadonlyMap<string, string>;

/** Which way a claim travels: request baggage, or the response header. One is never accepted as the other. */
export type ClaimDirection = 'request' | 'response';

/** What signs a claim: the service's Ed25519 identity (`alg` set) or the shared HMAC key. */
export interface ClaimSigning {
  readonly keyId: string;
  readonly alg?: 'ed25519';
  sign(canonical: string): string;
}

/** Signed members for `claim`, spending at most `budgetBytes` on the whole set. */
export function encodeClaim(claim: ProvenanceClaim, signer: ClaimSigning, budgetBytes: number, direction: ClaimDirection): string[] {
  const fields = new Map<string, string>();
  fields.set('v', WIRE_VERSION);
  fields.set('dir', direction === 'request' ? 'q' : 's');
  // A fresh nonce per claim: the receiver's replay cache recognises a claim sent twice.
  fields.set('n', randomText(9, 'base64url'));
  if (signer.alg !== undefined) fields.set('alg', signer.alg);
  if (direction === 'request' && claim.audience !== undefined) fields.set('aud', claim.audience);
  fields.set('svc', claim.service);
  if (claim.location !== undefined) fields.set('loc', claim.location);
  fields.set('c', claim.labels.confidentiality);
  fields.set('i', claim.labels.integrity);
  if (claim.labels.tags.length > 0) fields.set('t', claim.labels.tags.join(','));
  if (claim.labels.locations.length > 0) fields.set('dl', claim.labels.locations.join(','));
  if (claim.writeSpan !== undefined) fields.set('ws', claim.writeSpan);
  fields.set('ts', String(claim.issuedAt));
  fields.set('kid', signer.keyId);
  // Each member formatted once; formatted members are ASCII, so a length is a byte count.
  const members: string[] = [];
  // Room for the signature: 43 (HMAC) or 86 (Ed25519) characters of base64url plus its key.
  let fixed = 110;
  for (const [key, value] of fields) {
    const member = formatMember(CLAIM_PREFIX + key, value);
    members.push(member);
    fixed += member.length + 1;
  }
  if (claim.sources.length > 0) {
    const full = claim.sources.join('\n');
    const member = formatMember(`${CLAIM_PREFIX}src`, full);
    if (fixed + member.length <= budgetBytes) {
      fields.set('src', full);
      members.push(member);
    } else {
      const digest = sourcesDigest(claim.sources);
      const count = String(claim.sources.length);
      fields.set('srcd', digest);
      fields.set('srcn', count);
      members.push(formatMember(`${CLAIM_PREFIX}srcd`, digest), formatMember(`${CLAIM_PREFIX}srcn`, count));
    }
  }
  const signature = signer.sign(canonicalForm(fields));
  fields.set('sig', signature);
  members.push(formatMember(`${CLAIM_PREFIX}sig`, signature));
  return members;
}

/** The `provenant.*` members of a baggage list, or a reason they cannot be read. */
export function readClaimFields(members: readonly BaggageMember[]): ClaimFields | 'malformed' {
  const fields = new Map<string, string>();
  for (const member of members) {
    if (!member.key.startsWith(CLAIM_PREFIX)) continue;
    const value = memberValue(member);
    const key = member.key.slice(CLAIM_PREFIX.length);
    if (value === undefined || fields.has(key)) return 'malformed';
    fields.set(key, value);
  }
  return fields;
}

/** The exact string the signature covers: every field but `sig`, sorted, JSON-encoded (unambiguous). */
export function canonicalForm(fields: ClaimFields): string {
  const entries = [...fields].filter(([key]) => key !== 'sig').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `provenant/${WIRE_VERSION}\n${JSON.stringify(entries)}`;
}

/** Labels a claim states, read without trusting it (for "never less confidential than claimed"). */
export function claimedLabels(fields: ClaimFields): Partial<PublicLabels> {
  const labels: Partial<PublicLabels> = {};
  const confidentiality = fields.get('c');
  if (confidentiality !== undefined) labels.confidentiality = confidentiality;
  labels.tags = splitList(fields.get('t'));
  labels.locations = splitList(fields.get('dl'));
  return labels;
}

/** A complete claim from verified fields, or undefined when a required field is missing or bad. */
export function decodeClaim(fields: ClaimFields): ProvenanceClaim | undefined {
  const service = fields.get('svc');
  const confidentiality = fields.get('c');
  const integrity = fields.get('i');
  const issuedAt = Number(fields.get('ts'));
  if (fields.get('v') !== WIRE_VERSION || !service || !confidentiality || !integrity || !Number.isInteger(issuedAt)) return undefined;
  const claim: ProvenanceClaim = {
    service,
    labels: { confidentiality, integrity, tags: splitList(fields.get('t')), locations: splitList(fields.get('dl')) },
    sources:
      fields
        .get('src')
        ?.split('\n')
        .filter((source) => source !== '') ?? [],
    issuedAt,
  };
  const location = fields.get('loc');
  if (location !== undefined) claim.location = location;
  const digest = fields.get('srcd');
  if (digest !== undefined) {
    claim.sourcesDigest = digest;
    claim.sourceCount = Number(fields.get('srcn') ?? '0');
  }
  const writeSpan = fields.get('ws');
  if (writeSpan !== undefined) claim.writeSpan = writeSpan;
  return claim;
}

function splitList(value: string | undefined): string[] {
  return value === undefined || value === '' ? [] : value.split(',');
}
