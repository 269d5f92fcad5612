/**
 * Config matchers and conditions compiled to plain predicates: globs to picomatch functions,
 * level names to integer ranges, tags to bitsets. Nothing here runs per byte; the compiled
 * policy memoises every result per provenance set and per destination.
 */
import { compileGlob } from '../config/glob.js';
import type { DataCondition, DestinationCondition, LevelCondition, ResourceMatch, SetCondition, TagCondition } from '../config/types.js';
import type { Labels, LabelSchema } from '../provenance/labels.js';
import type { ProvenanceSet } from '../provenance/provenance-set.js';
import type { Resource, ResourceKind } from '../provenance/resource.js';
import { containsAll, intersects, type TagBits, type TagMask } from './tag-bits.js';

/** What a decision knows about one destination, computed once per destination id. */
export interface DestinationFacts {
  readonly resource: Resource;
  readonly labels: Labels;
  readonly tagMask: TagMask;
  /** The destination's location, when its `resources` entry, signed claim or node gives one. */
  readonly location: string | undefined;
  /** The no-write-up check applies only when the matching entry sets integrity explicitly. */
  readonly integrityExplicit: boolean;
}

/** What a decision knows about one provenance set, computed once per set id. */
export interface DataFacts {
  readonly set: ProvenanceSet;
  readonly tagMask: TagMask;
}

export type ResourcePredicate = (resource: Resource) => boolean;
export type DataPredicate = (data: DataFacts) => boolean;
export type DestinationPredicate = (destination: DestinationFacts) => boolean;

const NETWORK_KINDS: ReadonlySet<ResourceKind> = new Set(['tcp', 'udp', 'http', 'https']);

/** A `resources` entry's match: every key given must match (AND). */
export function compileResourceMatch(match: ResourceMatch): ResourcePredicate {
  const checks: ResourcePredicate[] = [];
  if (match.path !== undefined) checks.push(pathCheck(match.path));
  if (match.host !== undefined) checks.push(hostCheck(match.host));
  if (match.port !== undefined) checks.push(portCheck(match.port));
  if (match.url !== undefined) checks.push(urlCheck(match.url));
  if (match.service !== undefined) checks.push(serviceCheck(match.service));
  if (match.command !== undefined) checks.push(commandCheck(match.command));
  if (match.stdio !== undefined) {
    const stream = match.stdio;
    checks.push((r) => r.stdio === stream);
  }
  if (match.process !== undefined) {
    const role = match.process;
    checks.push((r) => r.role === role);
  }
  return all(checks);
}

export function compileDestinationCondition(condition: DestinationCondition, schema: LabelSchema, tags: TagBits): DestinationPredicate {
  const checks: DestinationPredicate[] = [];
  if (condition.kind !== undefined) {
    const kinds = new Set(condition.kind);
    checks.push((d) => kinds.has(d.resource.kind));
  }
  for (const check of [
    condition.path === undefined ? undefined : pathCheck(condition.path),
    condition.host === undefined ? undefined : hostCheck(condition.host),
    condition.port === undefined ? undefined : portCheck(condition.port),
    condition.service === undefined ? undefined : serviceCheck(condition.service),
    condition.command === undefined ? undefined : commandCheck(condition.command),
  ]) {
    if (check) checks.push((d) => check(d.resource));
  }
  if (condition.location !== undefined) {
    const inSet = singleLocationCheck(condition.location);
    checks.push((d) => inSet(d.location));
  }
  const labels = condition.labels;
  if (labels?.confidentiality) {
    const [min, max] = levelRange(labels.confidentiality, (name) => schema.confidentialityLevel(name));
    checks.push((d) => d.labels.confidentiality >= min && d.labels.confidentiality <= max);
  }
  if (labels?.integrity) {
    const [min, max] = levelRange(labels.integrity, (name) => schema.integrityLevel(name));
    checks.push((d) => d.labels.integrity >= min && d.labels.integrity <= max);
  }
  if (labels?.tags) {
    const tagCheck = compileTagCondition(labels.tags, tags);
    checks.push((d) => tagCheck(d.tagMask));
  }
  return all(checks);
}

export function compileDataCondition(condition: DataCondition, schema: LabelSchema, tags: TagBits): DataPredicate {
  const checks: DataPredicate[] = [];
  if (condition.confidentiality) {
    const [min, max] = levelRange(condition.confidentiality, (name) => schema.confidentialityLevel(name));
    checks.push((d) => d.set.labels.confidentiality >= min && d.set.labels.confidentiality <= max);
  }
  if (condition.integrity) {
    const [min, max] = levelRange(condition.integrity, (name) => schema.integrityLevel(name));
    checks.push((d) => d.set.labels.integrity >= min && d.set.labels.integrity <= max);
  }
  if (condition.tags) {
    const tagCheck = compileTagCondition(condition.tags, tags);
    checks.push((d) => tagCheck(d.tagMask));
  }
  if (condition.sources) {
    const matches = sourceMatcher(condition.sources);
    checks.push((d) => d.set.sources.some(matches));
  }
  if (condition.locations) {
    const locations = condition.locations;
    checks.push((d) => firstLocationMatch(locations, d.set.labels.locations) !== undefined);
  }
  return all(checks);
}

/** Register every tag a condition names, before any mask is built. */
export function registerConditionTags(condition: TagCondition | undefined, tags: TagBits): void {
  for (const tag of condition?.any ?? []) tags.register(tag);
  for (const tag of condition?.all ?? []) tags.register(tag);
}

/** A predicate over source URIs for `data.sources` globs. */
export function sourceMatcher(globs: readonly string[]): (uri: string) => boolean {
  const matchers = globs.map(compileGlob);
  return (uri) => matchers.some((m) => m(uri));
}

/**
 * Data locations: `in` matches when some location of the data is listed, `notIn` when some
 * location is not listed. Data with no location matches neither (it makes no location claim).
 * Returns the location that made it match, for the explanation.
 */
export function firstLocationMatch(condition: SetCondition, locations: readonly string[]): string | undefined {
  for (const location of locations) {
    if (condition.in !== undefined && !condition.in.includes(location)) continue;
    if (condition.notIn !== undefined && condition.notIn.includes(location)) continue;
    return location;
  }
  return undefined;
}

/**
 * A destination's single location: an unknown location never counts as `in` a list and always
 * counts as `notIn` it, so "PII only to the EU" also stops PII going to a host of unknown location.
 */
function singleLocationCheck(condition: SetCondition): (location: string | undefined) => boolean {
  return (location) => {
    if (condition.in !== undefined && (location === undefined || !condition.in.includes(location))) return false;
    if (condition.notIn !== undefined && location !== undefined && condition.notIn.includes(location)) return false;
    return true;
  };
}

function compileTagCondition(condition: TagCondition, tags: TagBits): (mask: TagMask) => boolean {
  const any = condition.any && condition.any.length > 0 ? tags.mask(condition.any) : undefined;
  const required = condition.all && condition.all.length > 0 ? tags.mask(condition.all) : undefined;
  return (mask) => (any === undefined || intersects(mask, any)) && (required === undefined || containsAll(mask, required));
}

function levelRange(condition: LevelCondition, level: (name: string) => number | undefined): [number, number] {
  const min = condition.atLeast === undefined ? 0 : level(condition.atLeast);
  const max = condition.atMost === undefined ? Number.MAX_SAFE_INTEGER : level(condition.atMost);
  if (min === undefined || max === undefined) throw new RangeError(`unknown level in condition ${JSON.stringify(condition)}`);
  return [min, max];
}

function pathCheck(glob: string): ResourcePredicate {
  const matches = compileGlob(glob);
  return (r) => (r.kind === 'file' || r.kind === 'unix') && r.path !== undefined && matches(r.path);
}

function hostCheck(glob: string): ResourcePredicate {
  const matches = compileGlob(glob);
  return (r) => NETWORK_KINDS.has(r.kind) && r.host !== undefined && matches(r.host);
}

function portCheck(port: number): ResourcePredicate {
  return (r) => NETWORK_KINDS.has(r.kind) && r.port === port;
}

function serviceCheck(glob: string): ResourcePredicate {
  const matches = compileGlob(glob);
  return (r) => r.kind === 'service' && r.service !== undefined && matches(r.service);
}

function commandCheck(glob: string): ResourcePredicate {
  const matches = compileGlob(glob);
  return (r) => r.command !== undefined && matches(r.command);
}

/**
 * `url` names an origin. Without a port it covers every port of that host; the character after
 * the prefix must end the host, so `http://localhost` does not match `http://localhost.evil`.
 */
function urlCheck(prefix: string): ResourcePredicate {
  return (r) => {
    if ((r.kind !== 'http' && r.kind !== 'https') || !r.uri.startsWith(prefix)) return false;
    const next = r.uri.charAt(prefix.length);
    return next === '' || next === ':' || next === '/';
  };
}

function all<T>(checks: readonly ((value: T) => boolean)[]): (value: T) => boolean {
  if (checks.length === 0) return () => true;
  if (checks.length === 1) return checks[0];
  return (value) => {
    for (const check of checks) if (!check(value)) return false;
    return true;
  };
}
