/**
 * Naming a resource on the command line. A URI matches itself, in the form the journal records it. A path (anything without `://`)
 * is resolved to an absolute path and becomes `file://<node>/<abs path>`; when the node is not
 * given it matches that path on any node (the file URIs whose path part equals it), so one
 * command covers the journals of several nodes.
 */
import { resolve } from 'node:path';
import { fileUri, ResourceRegistry } from '../provenance/resource.js';

export interface ResourceMatcher {
  /** The resource as reported: the URI, or `file://*<path>` for a path on any node. */
  readonly display: string;
  matches(uri: string): boolean;
}

export function resourceMatcher(argument: string, node?: string): ResourceMatcher {
  if (argument.includes('://')) {
    const uri = canonicalUri(argument);
    return { display: uri, matches: (candidate) => candidate === uri };
  }
  const path = resolve(argument);
  if (node !== undefined) {
    const uri = fileUri(node, path);
    return { display: uri, matches: (candidate) => candidate === uri };
  }
  return {
    display: `file://*${path}`,
    matches: (uri) => uri.startsWith('file://') && uri.endsWith(path) && uri.indexOf('/', 7) === uri.length - path.length,
  };
}

/**
 * A URI as the journal writes it (`https://api.example.com` is recorded as
 * `https://api.example.com:443`); file URIs, which carry their node, and unknown schemes as given.
 */
function canonicalUri(argument: string): string {
  if (argument.startsWith('file://')) return argument;
  try {
    return new ResourceRegistry('').parse(argument).uri;
  } catch {
    return argument;
  }
}
