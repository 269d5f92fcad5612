/**
 * `provenant.label()`: a run-time label for a file, a service, a host:port origin, a command,
 * stdout/stderr or the parent process, turned into the `resources:` entry the config would hold for it, which the policy
 * puts ahead of the config's own entries.
 */
import { literalGlob } from '../config/glob.js';
import type { LabelSpec, ResourceLabelRule, ResourceMatch } from '../config/types.js';
import type { Resource } from '../provenance/resource.js';

export function runtimeLabelRule(resource: Resource, labels: LabelSpec): ResourceLabelRule {
  let match: ResourceMatch;
  if (resource.kind === 'file') match = { path: literalGlob(resource.path as string) };
  else if (resource.kind === 'service') match = { service: resource.service };
  else if (resource.host !== undefined && resource.port !== undefined) match = { host: resource.host, port: resource.port };
  else if (resource.command !== undefined) match = { command: literalGlob(resource.command) };
  else if (resource.stdio !== undefined) match = { stdio: resource.stdio };
  else if (resource.role !== undefined) match = { process: resource.role };
  else
    throw new RangeError(`cannot label ${resource.uri}: only files, services, host:port, commands, stdout/stderr and a parent take labels`);
  return { match, labels };
}
