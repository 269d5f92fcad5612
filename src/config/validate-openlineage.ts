/** The `journal.openlineage` section: where OpenLineage run events go, checked like the rest with file:line:col. */
import type { OpenLineageConfig } from './types.js';
import type { Located, YamlReader } from './yaml-reader.js';

/** OpenLineage's HTTP transport posts to this endpoint by default (Marquez serves it). */
export const OPENLINEAGE_DEFAULT_ENDPOINT = '/api/v1/lineage';
const DEFAULT_NAMESPACE = 'provenant';

export function readOpenLineage(r: YamlReader, value: Located): OpenLineageConfig {
  const m = r.map(value, ['url', 'namespace']);
  const url = m.get('url');
  if (!url) r.fail(value.node, `${value.where} needs "url" (e.g. http://marquez:5000)`);
  const namespace = m.get('namespace');
  const name = namespace ? r.string(namespace) : DEFAULT_NAMESPACE;
  if (namespace && name.trim() === '') r.fail(namespace.node, `${namespace.where} must not be empty`);
  return { url: openLineageEndpoint(r.httpUrl(url)), namespace: name };
}

/** A URL with no path means the server's standard endpoint; any other path is used as given. */
export function openLineageEndpoint(url: URL): string {
  if (url.pathname === '/' || url.pathname === '') url.pathname = OPENLINEAGE_DEFAULT_ENDPOINT;
  return url.href;
}
