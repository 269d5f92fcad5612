/**
 * What a drawn lineage shows, shared by DOT, Mermaid and the browser explorer: upstream and
 * downstream merged into one graph, short names, one group per node (files) or per service
 * (network endpoints and peers), confidentiality colours, the transitive reduction of the flow
 * edges, and denied attempts as edges of their own. Pure: no Node or DOM APIs, so the browser
 * bundle can use it.
 */
import type { Lineage, LineageDenial } from '../journal/lineage.js';
import type { PublicLabels } from '../provenance/labels.js';

export interface ViewNode {
  /** The full URI. */
  id: string;
  short: string;
  /** `node <id>` for files and processes, `service <name>` for endpoints and peers. */
  group: string;
  labels: PublicLabels | null;
  /** Hops from the resource asked about: negative upstream, positive downstream. */
  depth: number;
  /** Only seen in denied attempts: no data of it is in the graph. */
  attemptOnly: boolean;
}

export interface ViewEdge {
  from: string;
  to: string;
  /** Services that made this flow, and the traces it happened in. */
  services: string[];
  traceIds: string[];
  /** Latest time (ISO). */
  time: string;
}

export interface LineageView {
  resource: string;
  nodes: ViewNode[];
  /** Flows after transitive reduction: an edge implied by a longer path is left out. */
  edges: ViewEdge[];
  /** How many flow edges the reduction left out. */
  reducedAway: number;
  denials: LineageDenial[];
}

/** Fill colours of the default confidentiality levels; other levels get `OTHER_LEVEL`. */
const CONFIDENTIALITY_COLOURS: Readonly<Record<string, string>> = {
  public: '#d9f2d9',
  internal: '#d6e6fa',
  confidential: '#fde3b8',
  secret: '#f8c8c8',
};
const OTHER_LEVEL = '#e4d7f5';
const UNLABELED = '#eeeeee';

export function confidentialityColour(labels: PublicLabels | null): string {
  if (!labels) return UNLABELED;
  return CONFIDENTIALITY_COLOURS[labels.confidentiality] ?? OTHER_LEVEL;
}

/** `file://n1/srv/data/patients/p-1.json` → `patients/p-1.json`; endpoints keep host and port. */
export function shortName(uri: string): string {
  const file = /^file:\/\/[^/]*(\/.*)$/.exec(uri);
  if (file) return file[1].split('/').filter(Boolean).slice(-2).join('/') || '/';
  const process = /^process:\/\/[^/]*\/(.*)$/.exec(uri);
  if (process) return `pid ${process[1]}`;
  return uri.replace(/^(https?|service):\/\//, '');
}

function nodeOf(uri: string): string | undefined {
  return /^(?:file|process):\/\/([^/]*)\//.exec(uri)?.[1];
}

/** Upstream and downstream lineages of one resource (either may be missing) as one view. */
export function lineageView(lineages: readonly Lineage[]): LineageView {
  const nodes = new Map<string, ViewNode>();
  const edges = new Map<string, ViewEdge>();
  const serviceOf = new Map<string, string>();
  const denials = new Map<string, LineageDenial>();
  for (const lineage of lineages) {
    const sign = lineage.direction === 'upstream' ? -1 : 1;
    const depths = hopCounts(lineage);
    for (const node of lineage.nodes) {
      const existing = nodes.get(node.resource);
      const hops = depths.get(node.resource) ?? 0;
      const depth = hops === 0 ? 0 : sign * hops;
      if (existing) {
        if (Math.abs(depth) < Math.abs(existing.depth)) existing.depth = depth;
        existing.labels ??= node.labels;
        continue;
      }
      nodes.set(node.resource, {
        id: node.resource,
        short: shortName(node.resource),
        group: '',
        labels: node.labels,
        depth,
        attemptOnly: false,
      });
    }
    for (const edge of lineage.edges) {
      const key = `${edge.from}\u0000${edge.to}`;
      const merged = edges.get(key) ?? { from: edge.from, to: edge.to, services: [], traceIds: [], time: edge.time };
      if (!merged.services.includes(edge.service)) merged.services.push(edge.service);
      if (edge.traceId && !merged.traceIds.includes(edge.traceId)) merged.traceIds.push(edge.traceId);
      if (merged.time < edge.time) merged.time = edge.time;
      edges.set(key, merged);
      serviceOf.set(edge.from, serviceOf.get(edge.from) ?? edge.service);
      serviceOf.set(edge.to, serviceOf.get(edge.to) ?? edge.service);
    }
    for (const denial of lineage.denials) {
      denials.set(`${denial.from}\u0000${denial.to}\u0000${denial.rule ?? ''}\u0000${denial.traceId ?? ''}`, denial);
      for (const uri of [denial.from, denial.to]) {
        serviceOf.set(uri, serviceOf.get(uri) ?? denial.service);
        if (!nodes.has(uri)) nodes.set(uri, { id: uri, short: shortName(uri), group: '', labels: null, depth: sign, attemptOnly: true });
      }
    }
  }
  // Nodes seen only in denied attempts sit one hop beyond the deepest node of their side.
  const deepest = Math.max(0, ...[...nodes.values()].filter((n) => !n.attemptOnly).map((n) => Math.abs(n.depth)));
  for (const node of nodes.values()) {
    const host = nodeOf(node.id);
    node.group = host !== undefined ? `node ${host}` : `service ${serviceOf.get(node.id) ?? 'unknown'}`;
    if (node.attemptOnly) node.depth = Math.sign(node.depth) * (deepest + 1);
  }
  const all = [...edges.values()];
  const reduced = transitiveReduction(all);
  return {
    resource: lineages[0]?.resource ?? '',
    nodes: [...nodes.values()],
    edges: reduced,
    reducedAway: all.length - reduced.length,
    denials: [...denials.values()],
  };
}

/** Hops from the walk's start along the lineage's own direction. */
function hopCounts(lineage: Lineage): Map<string, number> {
  const next = new Map<string, string[]>();
  for (const edge of lineage.edges) {
    const [near, far] = lineage.direction === 'upstream' ? [edge.to, edge.from] : [edge.from, edge.to];
    next.set(near, [...(next.get(near) ?? []), far]);
  }
  const depth = new Map<string, number>();
  let frontier = lineage.nodes.filter((n) => n.resource === lineage.resource).map((n) => n.resource);
  if (frontier.length === 0 && lineage.nodes.length > 0) frontier = [lineage.nodes[0].resource];
  for (const uri of frontier) depth.set(uri, 0);
  for (let hop = 1; frontier.length > 0; hop++) {
    const reached: string[] = [];
    for (const uri of frontier)
      for (const far of next.get(uri) ?? [])
        if (!depth.has(far)) {
          depth.set(far, hop);
          reached.push(far);
        }
    frontier = reached;
  }
  return depth;
}

/**
 * Leaves out an edge u→w when w is also reachable from another successor of u: the longer path
 * already says the data got there. A cycle through w alone never removes u→w.
 */
export function transitiveReduction<E extends { from: string; to: string }>(edges: readonly E[]): E[] {
  const successors = new Map<string, Set<string>>();
  for (const edge of edges) {
    const set = successors.get(edge.from) ?? new Set<string>();
    set.add(edge.to);
    successors.set(edge.from, set);
  }
  const reachesFrom = (starts: string[], target: string, skip: string): boolean => {
    const seen = new Set<string>([skip]);
    const stack = starts.filter((s) => s !== skip);
    for (const s of stack) seen.add(s);
    while (stack.length > 0) {
      const uri = stack.pop() as string;
      if (uri === target) return true;
      for (const next of successors.get(uri) ?? [])
        if (!seen.has(next)) {
          seen.add(next);
          stack.push(next);
        }
    }
    return false;
  };
  return edges.filter((edge) => {
    const others = [...(successors.get(edge.from) ?? [])].filter((s) => s !== edge.to && s !== edge.from);
    return others.length === 0 || !reachesFrom(others, edge.to, edge.from);
  });
}
