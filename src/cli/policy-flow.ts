/**
 * A flow given on the command line, for `provenant policy check`: the data's labels and sources
 * from `--data`, the destination from a path or URI, and how a decision is printed.
 */
import { resolve } from 'node:path';
import { LabelSchema, type Labels, type PublicLabels } from '../provenance/labels.js';
import { ProvenanceSets, type LabelOrigins, type ProvenanceSet } from '../provenance/provenance-set.js';
import { ResourceRegistry, type Resource } from '../provenance/resource.js';
import type { CompiledPolicy, Decision } from '../policy/types.js';
import { UsageError } from './journal-args.js';

const DATA_KEYS = ['confidentiality', 'integrity', 'tags', 'locations', 'sources'] as const;
/** The origin a denial names for labels given on the command line. */
const CLI_ORIGIN = '--data';

export function dataSet(json: string, schema: LabelSchema, compiled: CompiledPolicy, registry: ResourceRegistry): ProvenanceSet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new UsageError(`--data is not JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError('--data must be a JSON object');
  const fields = parsed as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!(DATA_KEYS as readonly string[]).includes(key))
      throw new UsageError(`--data has unknown key "${key}" (known: ${DATA_KEYS.join(', ')})`);
  }
  const given: Partial<PublicLabels> = {};
  const confidentiality = optionalString(fields, 'confidentiality');
  if (confidentiality !== undefined) given.confidentiality = confidentiality;
  const integrity = optionalString(fields, 'integrity');
  if (integrity !== undefined) given.integrity = integrity;
  const tags = optionalStrings(fields, 'tags');
  if (tags !== undefined) given.tags = tags;
  const locations = optionalStrings(fields, 'locations');
  if (locations !== undefined) given.locations = locations;
  let labels: Labels;
  try {
    labels = schema.fromPublic(given, schema.neutral);
  } catch (error) {
    throw new UsageError(`--data: ${(error as Error).message}`);
  }
  const origins = originsOf(labels, CLI_ORIGIN, given.confidentiality !== undefined, given.integrity !== undefined);
  const sets = new ProvenanceSets(schema.neutral);
  let set = sets.of([], labels, origins);
  for (const source of optionalStrings(fields, 'sources') ?? []) {
    const resource = resourceOf(source, registry);
    set = sets.withSource(set, resource.uri, compiled.labelsOf(resource));
  }
  return set;
}

export function originsOf(labels: Labels, origin: string, confidentiality: boolean, integrity: boolean): LabelOrigins {
  return {
    ...(confidentiality ? { confidentiality: origin } : {}),
    ...(integrity ? { integrity: origin } : {}),
    tags: Object.fromEntries(labels.tags.map((tag) => [tag, origin])),
    locations: Object.fromEntries(labels.locations.map((location) => [location, origin])),
  };
}

export function destinationOf(to: string, location: string | undefined, registry: ResourceRegistry): Resource {
  const resource = resourceOf(to, registry);
  if (location === undefined) return resource;
  if (resource.kind !== 'service') throw new UsageError('--location applies only to a service:// destination');
  return registry.service(resource.service as string, location);
}

/** Paths resolve against the current folder; anything with a scheme is a URI. */
export function resourceOf(pathOrUri: string, registry: ResourceRegistry): Resource {
  if (!pathOrUri.includes('://')) return registry.file(resolve(pathOrUri));
  try {
    return registry.parse(pathOrUri);
  } catch (error) {
    throw new UsageError(`cannot read "${pathOrUri}" as a path or URI (${(error as Error).message})`);
  }
}

function optionalString(fields: Record<string, unknown>, key: string): string | undefined {
  const value = fields[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new UsageError(`--data: ${key} must be a string`);
  return value;
}

function optionalStrings(fields: Record<string, unknown>, key: string): string[] | undefined {
  const value = fields[key];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string'))
    throw new UsageError(`--data: ${key} must be a list of strings`);
  return value;
}

export function asJson(decision: Decision): { decision: string; rule: string | null; reason: string | null } {
  return { decision: decision.kind, rule: decision.rule ?? null, reason: decision.reason ?? null };
}

export function describe(decision: Decision, destination: Resource): string {
  if (decision.kind === 'allow') {
    return decision.rule === undefined
      ? `allow: flow to ${destination.uri}`
      : `allow (rule ${decision.rule}, an explicit exception): flow to ${destination.uri}`;
  }
  return `${decision.kind} (rule ${decision.rule}): ${decision.reason}`;
}
