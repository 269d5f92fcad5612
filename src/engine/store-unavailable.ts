/**
 * Failing closed when the node-local store cannot persist provenance (a full or failing disk):
 * data written while its provenance is known to this process only would later look unlabelled
 * to every other process, a false allow. Labelled data is therefore not written in enforce mode.
 */
import type { Mode } from '../config/types.js';
import type { Labels } from '../provenance/labels.js';
import type { Decision } from '../policy/types.js';

export const STORE_UNAVAILABLE_RULE = 'store-unavailable';
/** Attribute of the record written once the store works again: how many writes it could not persist. */
export const UNPERSISTED_ATTRIBUTE = 'provenant.unpersisted_writes';

/** Data more confidential than the configured defaults, or tagged. */
export function exceedsDefaults(labels: Labels, defaults: Labels): boolean {
  return labels.confidentiality > defaults.confidentiality || labels.tags.length > 0;
}

/** Denied in enforce mode, a violation in audit mode; `unpersisted` counts the writes affected so far. */
export function storeUnavailableDecision(mode: Mode, unpersisted: number): Decision {
  return Object.freeze({
    kind: mode === 'audit' ? 'violation' : 'deny',
    rule: STORE_UNAVAILABLE_RULE,
    reason: `the node-local provenance store cannot save this data's provenance (${unpersisted} write(s) so far), so labelled data is not written where other processes would take it for unlabelled`,
  });
}
