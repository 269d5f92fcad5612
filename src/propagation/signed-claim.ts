/**
 * Verification shared by every signed claim (baggage between services, the environment claim a
 * child starts with): key, signature, well-formedness and age, in that order.
 */
import type { ProvenanceClaim } from '../provenance/peer-claim.js';
import { canonicalForm, decodeClaim, type ClaimFields } from './claim.js';
import type { ClaimSigner } from './signing.js';

/** Clock skew tolerated for claims issued "in the future". */
const MAX_CLOCK_SKEW_SECONDS = 60;

export type SignatureProblem = 'unsigned' | 'no-key' | 'unknown-key' | 'bad-signature' | 'malformed' | 'stale';

export function verifySignedClaim(
  fields: ClaimFields,
  signer: ClaimSigner | undefined,
  nowMs: number,
  maxAgeSeconds: number,
): { claim: ProvenanceClaim } | { problem: SignatureProblem } {
  const signature = fields.get('sig');
  const keyId = fields.get('kid');
  if (signature === undefined || keyId === undefined) return { problem: 'unsigned' };
  if (signer === undefined) return { problem: 'no-key' };
  if (keyId !== signer.keyId) return { problem: 'unknown-key' };
  if (!signer.verify(canonicalForm(fields), signature)) return { problem: 'bad-signature' };
  const claim = decodeClaim(fields);
  if (claim === undefined) return { problem: 'malformed' };
  const age = nowMs / 1000 - claim.issuedAt;
  if (age > maxAgeSeconds || age < -MAX_CLOCK_SKEW_SECONDS) return { problem: 'stale' };
  return { claim };
}
