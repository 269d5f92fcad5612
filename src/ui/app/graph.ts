/**
 * The lineage graph: Cytoscape with the dagre layout, left to right. Nodes sit in compound
 * parents per node or service; only nodes up to `INITIAL_DEPTH` hops away are shown at first,
 * and a node with hidden neighbours shows how many and reveals them when clicked.
 */
import cytoscape, { type Core, type ElementDefinition } from 'cytoscape';
import dagre from 'cytoscape-dagre';
import type { LineageDenial } from '../../journal/lineage.js';
import { confidentialityColour, type LineageView, type ViewEdge, type ViewNode } from '../lineage-view.js';

cytoscape.use(dagre);

const INITIAL_DEPTH = 2;
/**
 * Above this many shown nodes, groups are left out and dagre ranks by longest path: compound
 * nodes and network-simplex ranking make layout of 1,000 nodes take seconds.
 */
const LARGE = 300;

export type Selection = { kind: 'node'; node: ViewNode } | { kind: 'edge'; edge: ViewEdge } | { kind: 'denial'; denial: LineageDenial };

export interface GraphHandle {
  cy: Core;
  /** Milliseconds the last layout took, measured in the page. */
  lastLayoutMs: number;
  expandAll(): void;
}

function targetId(event: cytoscape.EventObject): string {
  return (event.target as cytoscape.SingularElementArgument).id();
}

export function drawLineage(container: HTMLElement, view: LineageView, onSelect: (selection: Selection) => void): GraphHandle {
  const visible = new Set(view.nodes.filter((n) => Math.abs(n.depth) <= INITIAL_DEPTH).map((n) => n.id));
  const byId = new Map(view.nodes.map((n) => [n.id, n]));
  const neighbours = new Map<string, Set<string>>();
  const link = (a: string, b: string): void => {
    neighbours.set(a, (neighbours.get(a) ?? new Set()).add(b));
    neighbours.set(b, (neighbours.get(b) ?? new Set()).add(a));
  };
  for (const edge of view.edges) link(edge.from, edge.to);
  for (const denial of view.denials) link(denial.from, denial.to);
  // A denied attempt is shown with the resource it was made against.
  for (const denial of view.denials) {
    if (visible.has(denial.to) && byId.get(denial.from)?.attemptOnly) visible.add(denial.from);
    if (visible.has(denial.from) && byId.get(denial.to)?.attemptOnly) visible.add(denial.to);
  }

  const cy = cytoscape({ container, style: STYLE, minZoom: 0.05, maxZoom: 3 });
  const handle: GraphHandle = { cy, lastLayoutMs: 0, expandAll };
  let large = false;

  function elements(): ElementDefinition[] {
    const out: ElementDefinition[] = [];
    const groups = new Set<string>();
    for (const id of visible) {
      const node = byId.get(id);
      if (!node) continue;
      groups.add(node.group);
      const hidden = [...(neighbours.get(id) ?? [])].filter((n) => !visible.has(n)).length;
      const tags = node.labels?.tags.length ? `\n${node.labels.tags.map((t) => `● ${t}`).join('  ')}` : '';
      const label = `${node.short}${tags}${hidden > 0 ? `\n＋${hidden} more` : ''}`;
      const lines = label.split('\n');
      out.push({
        group: 'nodes',
        data: {
          id,
          parent: large ? undefined : `group:${node.group}`,
          label,
          // Box size from the text: about 6.5 px per character and 14 px per line at 11 px type.
          width: 16 + 6.5 * Math.max(...lines.map((line) => line.length)),
          height: 10 + 14 * lines.length,
          colour: confidentialityColour(node.labels),
          hidden,
        },
        classes: [id === view.resource ? 'start' : '', hidden > 0 ? 'collapsed' : '', node.attemptOnly ? 'attempt' : ''].join(' '),
      });
    }
    if (!large) for (const group of groups) out.push({ group: 'nodes', data: { id: `group:${group}`, label: group }, classes: 'group' });
    view.edges.forEach((edge, i) => {
      if (visible.has(edge.from) && visible.has(edge.to))
        out.push({ group: 'edges', data: { id: `e${i}`, source: edge.from, target: edge.to, label: edge.services.join(', ') } });
    });
    view.denials.forEach((denial, i) => {
      if (visible.has(denial.from) && visible.has(denial.to))
        out.push({
          group: 'edges',
          data: { id: `d${i}`, source: denial.from, target: denial.to, label: `denied: ${denial.rule ?? '?'}` },
          classes: 'denial',
        });
    });
    return out;
  }

  function render(): void {
    large = visible.size > LARGE;
    cy.elements().remove();
    cy.add(elements());
    const started = performance.now();
    cy.layout({
      name: 'dagre',
      rankDir: 'LR',
      nodeSep: 18,
      rankSep: 70,
      padding: 20,
      animate: false,
      ranker: large ? 'longest-path' : 'network-simplex',
    } as cytoscape.LayoutOptions).run();
    handle.lastLayoutMs = performance.now() - started;
    container.dataset['layoutMs'] = handle.lastLayoutMs.toFixed(0);
    container.dataset['nodes'] = String(cy.nodes(':childless').length);
  }

  function expand(id: string): void {
    let changed = false;
    for (const n of neighbours.get(id) ?? [])
      if (!visible.has(n)) {
        visible.add(n);
        changed = true;
      }
    if (changed) render();
  }

  function expandAll(): void {
    for (const node of view.nodes) visible.add(node.id);
    render();
  }

  cy.on('tap', 'node', (event) => {
    const id = targetId(event);
    const node = byId.get(id);
    if (!node) return;
    onSelect({ kind: 'node', node });
    expand(id);
  });
  cy.on('tap', 'edge', (event) => {
    const id = targetId(event);
    const index = Number(id.slice(1));
    if (id.startsWith('d')) onSelect({ kind: 'denial', denial: view.denials[index] });
    else onSelect({ kind: 'edge', edge: view.edges[index] });
  });
  // The full URI on hover.
  cy.on('mouseover', 'node', (event) => {
    container.title = byId.get(targetId(event))?.id ?? '';
  });
  cy.on('mouseout', 'node', () => {
    container.title = '';
  });
  render();
  return handle;
}

const STYLE: cytoscape.StylesheetJson = [
  {
    selector: 'node',
    style: {
      shape: 'round-rectangle',
      'background-color': 'data(colour)',
      'border-width': 1,
      'border-color': '#666',
      label: 'data(label)',
      'text-wrap': 'wrap',
      'text-valign': 'center',
      'font-size': 11,
      'font-family': 'system-ui, sans-serif',
      width: 'data(width)',
      height: 'data(height)',
    },
  },
  { selector: 'node.start', style: { 'border-width': 3, 'border-color': '#222' } },
  { selector: 'node.collapsed', style: { 'border-style': 'double', 'border-width': 4 } },
  { selector: 'node.attempt', style: { 'border-color': '#d62728', 'border-style': 'dashed' } },
  {
    selector: 'node.group',
    style: {
      'background-color': '#fafafa',
      'border-color': '#bbb',
      'border-style': 'dashed',
      label: 'data(label)',
      'text-valign': 'top',
      'text-halign': 'center',
      'font-size': 11,
      color: '#555',
      padding: '12px',
    },
  },
  {
    selector: 'edge',
    style: {
      width: 1.5,
      'line-color': '#777',
      'target-arrow-color': '#777',
      'target-arrow-shape': 'triangle',
      'curve-style': 'bezier',
      label: 'data(label)',
      'font-size': 9,
      color: '#555',
      'text-background-color': '#fff',
      'text-background-opacity': 0.8,
    },
  },
  {
    selector: 'edge.denial',
    style: { 'line-color': '#d62728', 'target-arrow-color': '#d62728', 'line-style': 'dashed', color: '#d62728', width: 2 },
  },
  { selector: ':selected', style: { 'overlay-color': '#1f77b4', 'overlay-opacity': 0.2 } },
];
