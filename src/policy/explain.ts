/**
 * Reasons a person understands: which label of the data (and which source carried it) met which
 * label of the destination. Built only on a deny, never on the allow path.
 */
import type { PolicyRuleSpec } from '../config/types.js';
import type { LabelSchema } from '../provenance/labels.js';
import type { ProvenanceSet } from '../provenance/provenance-set.js';
import { firstLocationMatch, sourceMatcher, type DestinationFacts } from './matchers.js';

export function confidentialityReason(schema: LabelSchema, set: ProvenanceSet, destination: DestinationFacts): string {
  const data = schema.confidentiality[set.labels.confidentiality];
  const dest = schema.confidentiality[destination.labels.confidentiality];
  return `data is ${data}${from(set.origins.confidentiality)} but ${destination.resource.uri} is ${dest}`;
}

export function integrityReason(schema: LabelSchema, set: ProvenanceSet, destination: DestinationFacts): string {
  const data = schema.integrity[set.labels.integrity];
  const dest = schema.integrity[destination.labels.integrity];
  return `data has ${data} integrity${from(set.origins.integrity)} but ${destination.resource.uri} accepts only ${dest} integrity or higher`;
}

export function revokedReason(source: string): string {
  return `data derives from ${source}, which is revoked, so it may not be written anywhere`;
}

export function faultReason(error: unknown): string {
  return `the policy engine failed (${error instanceof Error ? error.message : String(error)}), so the flow is denied to fail closed`;
}

export function ruleReason(rule: PolicyRuleSpec, schema: LabelSchema, set: ProvenanceSet, destination: DestinationFacts): string {
  const headline = rule.message ?? `rule "${rule.id}" denies this flow`;
  const clauses = dataClauses(rule, schema, set);
  const data = clauses.length > 0 ? clauses.join(' and ') : 'any data';
  return `${headline}: ${data}; ${describeDestination(rule, schema, destination)}`;
}

function dataClauses(rule: PolicyRuleSpec, schema: LabelSchema, set: ProvenanceSet): string[] {
  const condition = rule.data;
  if (!condition) return [];
  const clauses: string[] = [];
  if (condition.confidentiality)
    clauses.push(`data is ${schema.confidentiality[set.labels.confidentiality]}${from(set.origins.confidentiality)}`);
  if (condition.integrity) clauses.push(`data has ${schema.integrity[set.labels.integrity]} integrity${from(set.origins.integrity)}`);
  if (condition.tags) {
    const named = new Set([...(condition.tags.any ?? []), ...(condition.tags.all ?? [])]);
    const tagged = set.labels.tags.filter((tag) => named.has(tag)).map((tag) => `${tag}${from(set.origins.tags[tag])}`);
    clauses.push(`data is tagged ${tagged.join(', ')}`);
  }
  if (condition.sources) {
    const matches = sourceMatcher(condition.sources);
    const source = set.sources.find(matches);
    clauses.push(`data derives from ${source}`);
  }
  if (condition.locations) {
    const location = firstLocationMatch(condition.locations, set.labels.locations);
    if (location !== undefined) clauses.push(`data comes from ${location}${from(set.origins.locations[location])}`);
  }
  return clauses;
}

function describeDestination(rule: PolicyRuleSpec, schema: LabelSchema, destination: DestinationFacts): string {
  const conf = schema.confidentiality[destination.labels.confidentiality];
  const where =
    destination.location !== undefined ? ` in ${destination.location}` : rule.destination?.location ? ' with no known location' : '';
  return `${destination.resource.uri} is ${conf}${where}`;
}

function from(source: string | undefined): string {
  return source === undefined ? '' : ` (from ${source})`;
}
