/**
 * Naming a resource on the command line. A URI matches itself. A path (anything without `://`)
 * is resolved to an absolute path and becomes `file://<node>/<abs path>`; when the node is not
 * given it matches that path on any node (the file URIs whose path part equals it), so one
 * command covers the journals of several nodes.
 */
import { resolve } from 'node:path';

export interface ResourceMatcher {
  /** The resource as reported: the URI, or `file://*<path>` for a path on any node. */
  readonly display: string;
  matches(uri: string): boolean;
}

export function resourceMatcher(argument: string, node?: string): ResourceMatcher {
  if (argument.includes('://')) return { display: argument, matches: (uri) => uri === argument };
  const path = resolve(argument);
  if (node !== undefined) {
    const uri = `file://${node}${path}`;
    return { display: uri, matches: (candidate) => candidate === uri };
  }
  return {
    display: `file://*${path}`,
    matches: (uri) => uri.startsWith('file://') && uri.endsWith(path) && uri.indexOf('/', 7) === uri.length - path.length,
  };
}
