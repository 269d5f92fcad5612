/**
 * Data that arrives with a claim about its labels (signed baggage from a peer, the environment
 * claim a child starts with) as a provenance set. A verified claim brings its labels and sources;
 * anything unverified brings the lowest integrity and at least the confidentiality it claimed
 * (the top level when not even that is readable), keeping its tags and locations: forged labels
 * can make data look more sensitive, never less, and never more trustworthy.
 */
import { sortedUnique, type Labels, type LabelSchema, type PublicLabels } from '../provenance/labels.js';
import type { ClaimedLabels } from '../provenance/peer-claim.js';
import type { ProvenanceSet, ProvenanceSets } from '../provenance/provenance-set.js';

/** A verified claim as a set; undefined when it names levels this node does not know. */
export function verifiedData(
  sets: ProvenanceSets,
  schema: LabelSchema,
  labels: PublicLabels,
  sources: readonly string[],
): ProvenanceSet | undefined {
  try {
    return sets.of(sources, schema.fromPublic(labels, schema.neutral));
  } catch {
    return undefined;
  }
}

export function unverifiedData(sets: ProvenanceSets, schema: LabelSchema, claimed: ClaimedLabels | undefined): ProvenanceSet {
  const top = schema.confidentiality.length - 1;
  let confidentiality = 0;
  if (claimed === 'unreadable') confidentiality = top;
  else if (claimed?.confidentiality !== undefined) confidentiality = schema.confidentialityLevel(claimed.confidentiality) ?? top;
  const labels: Labels = {
    confidentiality,
    integrity: 0,
    tags: claimed === 'unreadable' ? [] : sortedUnique(claimed?.tags ?? []),
    locations: claimed === 'unreadable' ? [] : sortedUnique(claimed?.locations ?? []),
  };
  return sets.of([], labels);
}
