/** The one error users see when a flow is denied (a contract name: users match on its `code`). */
import type { PublicLabels } from './provenance/labels.js';

export const ERR_PROVENANCE_DENIED = 'ERR_PROVENANCE_DENIED';

export class ProvenanceDeniedError extends Error {
  readonly code = ERR_PROVENANCE_DENIED;
  /** Rule id: a user rule's id, a built-in `confidentiality`, `integrity`, `revoked`, `policy-fault`, or `claim-exceeded` (a body outgrew its signed claim). */
  readonly rule: string;
  readonly reason: string;
  /** Labels of the data that was to flow. */
  readonly labels: PublicLabels;
  /** URI of the destination. */
  readonly destination: string;

  constructor(rule: string, reason: string, labels: PublicLabels, destination: string) {
    super(`provenant denied flow to ${destination} (rule ${rule}): ${reason}`);
    this.name = 'ProvenanceDeniedError';
    this.rule = rule;
    this.reason = reason;
    this.labels = labels;
    this.destination = destination;
  }
}

export function isProvenanceDenied(error: unknown): error is ProvenanceDeniedError {
  return error instanceof Error && (error as { code?: unknown }).code === ERR_PROVENANCE_DENIED;
}
