/**
 * Lineage from journal records: every allowed (or audited) write, copy, move or application
 * `record` is an edge from each of its sources to the resource written. Upstream of R is
 * everything R transitively derives from; downstream is everything derived from R.
 * Denied flows moved no data and make no edge; attempts against the graph's resources are listed
 * apart as `denials`, and a denied attempt never sets a resource's labels.
 *
 * Network endpoints (`http(s)://`, `tcp://`, `service://`) are leaves of the walk: what one
 * service sent to an endpoint is not what another read from it (a request to billing and
 * billing's tariff sheet in a response share the URI, not the data). Data that crosses services
 * keeps its lineage through the source URIs carried in signed baggage, not through endpoints.
 */
import type { PublicLabels } from '../provenance/labels.js';
import type { JournalRecord } from './format.js';
import { forEachRecord } from './decode.js';
import type { ResourceMatcher } from './resource-match.js';

export type Direction = 'upstream' | 'downstream';

export interface LineageNode {
  resource: string;
  /**
   * Latest labels of an allowed flow on the resource (a read records the resource's own labels);
   * null when it only appears as a source or in denied attempts.
   */
  labels: PublicLabels | null;
}

export interface LineageEdge {
  from: string;
  to: string;
  /** Latest time of this flow (ISO). */
  time: string;
  service: string;
  traceId: string | null;
}

/** A refused write from `from` into `to`: no data moved. */
export interface LineageDenial extends LineageEdge {
  rule: string | null;
  reason: string | null;
  /** Labels of the data that was refused. */
  labels: PublicLabels;
}

export interface Lineage {
  resource: string;
  direction: Direction;
  nodes: LineageNode[];
  edges: LineageEdge[];
  /** Denied attempts into (upstream) or out of (downstream) the graph's expanded resources. */
  denials: LineageDenial[];
}

const DERIVING_OPS = new Set(['write', 'copy', 'move', 'record']);

export function buildLineage(stateDirs: readonly string[], matcher: ResourceMatcher, direction: Direction): Lineage {
  const edges = new Map<string, LineageEdge>();
  const denials = new Map<string, LineageDenial>();
  const labels = new Map<string, { time: string; labels: PublicLabels }>();
  const known = new Set<string>();
  forEachRecord(stateDirs, (record) => {
    known.add(record.resource);
    const denied = record.decision === 'deny';
    if (!denied) {
      const seen = labels.get(record.resource);
      if (!seen || seen.time <= record.time) labels.set(record.resource, { time: record.time, labels: record.labels });
    }
    if (!DERIVING_OPS.has(record.op)) return;
    for (const from of record.sources) {
      known.add(from);
      if (denied) addDenial(denials, record, from);
      else addEdge(edges, record, from);
    }
  });

  const start = [...known].filter((uri) => matcher.matches(uri)).sort();
  const startSet = new Set(start);
  const near = (edge: LineageEdge): string => (direction === 'upstream' ? edge.to : edge.from);
  const far = (edge: LineageEdge): string => (direction === 'upstream' ? edge.from : edge.to);
  const expands = (uri: string): boolean => startSet.has(uri) || !isEndpoint(uri);
  const byNear = new Map<string, LineageEdge[]>();
  for (const edge of edges.values()) {
    const list = byNear.get(near(edge));
    if (list) list.push(edge);
    else byNear.set(near(edge), [edge]);
  }
  // Breadth-first over the edges of each reached node: each edge is looked at once.
  const visited = new Set(start);
  const used: LineageEdge[] = [];
  for (let frontier = start; frontier.length > 0;) {
    const next: string[] = [];
    for (const uri of frontier) {
      if (!expands(uri)) continue;
      for (const edge of byNear.get(uri) ?? []) {
        used.push(edge);
        if (!visited.has(far(edge))) {
          visited.add(far(edge));
          next.push(far(edge));
        }
      }
    }
    frontier = next;
  }

  const nodes = [...start, ...[...visited].filter((uri) => !startSet.has(uri)).sort()].map((resource) => ({
    resource,
    labels: labels.get(resource)?.labels ?? null,
  }));
  const byTime = (a: LineageEdge, b: LineageEdge): number => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0);
  used.sort(byTime);
  // Attempts on a resource the walk expanded (an endpoint leaf gathers every service's traffic).
  const attempts = [...denials.values()]
    .filter((denial) => denial.from !== denial.to && visited.has(near(denial)) && expands(near(denial)))
    .sort(byTime);
  return { resource: start.length === 1 ? start[0] : matcher.display, direction, nodes, edges: used, denials: attempts };
}

function isEndpoint(uri: string): boolean {
  return /^(https?|tcp|service):\/\//.test(uri);
}

/** One edge per (from, to, service, trace): a flow repeated in one trace is one edge. */
function addEdge(edges: Map<string, LineageEdge>, record: JournalRecord, from: string): void {
  const traceId = record.traceId ?? null;
  const key = edgeKey(record, from);
  const existing = edges.get(key);
  if (existing) {
    if (existing.time < record.time) existing.time = record.time;
    return;
  }
  edges.set(key, { from, to: record.resource, time: record.time, service: record.service, traceId });
}

/** One denial per (from, to, service, trace, rule), at its latest time. */
function addDenial(denials: Map<string, LineageDenial>, record: JournalRecord, from: string): void {
  const key = `${edgeKey(record, from)}\u0000${record.rule ?? ''}`;
  const existing = denials.get(key);
  if (existing && existing.time >= record.time) return;
  denials.set(key, {
    from,
    to: record.resource,
    time: record.time,
    service: record.service,
    traceId: record.traceId ?? null,
    rule: record.rule ?? null,
    reason: record.reason ?? null,
    labels: record.labels,
  });
}

function edgeKey(record: JournalRecord, from: string): string {
  return `${from}\u0000${record.resource}\u0000${record.service}\u0000${record.traceId ?? ''}`;
}
