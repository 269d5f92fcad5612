/**
 * OpenLineage names for provenant's resources and jobs. The naming spec
 * (openlineage.io/docs/spec/naming) splits a datasource URI into namespace = `scheme://authority`
 * and name = path: a file on a node is `file://<node>` + `<path>` (its "remote file system" form,
 * since journals of several nodes meet in one backend), an endpoint is `https://host:port` + `/`
 * (provenance is kept per origin, so the path is not part of the dataset), a peer service
 * `service://<name>` + `/`. A URI without authority (`unix:///run/app.sock`) is `unix` + path,
 * as a local file is `file` + path.
 */

export interface DatasetName {
  namespace: string;
  name: string;
}

export function datasetName(uri: string): DatasetName {
  const schemeEnd = uri.indexOf('://');
  if (schemeEnd < 0) return { namespace: 'provenant', name: uri };
  const scheme = uri.slice(0, schemeEnd);
  const rest = uri.slice(schemeEnd + 3);
  const pathStart = rest.indexOf('/');
  const authority = pathStart < 0 ? rest : rest.slice(0, pathStart);
  const path = pathStart < 0 ? '/' : rest.slice(pathStart);
  return { namespace: authority === '' ? scheme : `${scheme}://${authority}`, name: path };
}

/** A segment that names one item (a number, a UUID, a long token, an e-mail address), not a route. */
const ITEM_SEGMENT = /^(\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(?=.*\d)[A-Za-z0-9_-]{16,}|[^@]+@[^@]+)$/i;

/**
 * The route of a request path: items become `{id}`, so `/patients/42` and `/patients/43` are one
 * job (`GET /patients/{id}`) and job names stay few, as jobs are meant to be recurring work.
 */
export function routeOf(path: string): string {
  return path
    .split('/')
    .map((segment) => (ITEM_SEGMENT.test(safeDecode(segment)) ? '{id}' : segment))
    .join('/');
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
