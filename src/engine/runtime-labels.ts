/**
 * `provenant.label()`: a run-time label for a file, a service or a host:port origin, turned into
 * the `resources:` entry the config would hold for it (a literal path glob, a service name, or a
 * host and port), which the policy puts ahead of the config's own entries.
 */
import { literalGlob } from '../config/glob.js';
import type { LabelSpec, ResourceLabelRule, ResourceMatch } from '../config/types.js';
import type { Resource } from '../provenance/resource.js';

export function runtimeLabelRule(resource: Resource, labels: LabelSpec): ResourceLabelRule {
  let match: ResourceMatch;
  if (resource.kind === 'file') match = { path: literalGlob(resource.path as string) };
  else if (resource.kind === 'service') match = { service: resource.service };
  else if (resource.host !== undefined && resource.port !== undefined) match = { host: resource.host, port: resource.port };
  else throw new RangeError(`cannot label ${resource.uri}: only files, services and host:port resources take labels`);
  return { match, labels };
}
