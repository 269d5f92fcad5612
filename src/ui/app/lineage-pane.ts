/** The lineage tab: the graph of a resource, its legend, and the details of what is clicked. */
import type { LineageView } from '../lineage-view.js';
import { clear, getJson, h, labelText, traceLink } from './dom.js';
import { drawLineage, type GraphHandle, type Selection } from './graph.js';

/** What a pane may ask of the explorer around it. */
export interface Explorer {
  readonly traceUrl: string | null;
  /** Show the lineage of another resource. */
  open(uri: string): void;
  /** Show the timeline of a resource. */
  openTimeline(uri: string): void;
}

declare global {
  interface Window {
    /** The live graph, for tests and the curious (read it from the devtools console). */
    provenantGraph?: GraphHandle;
  }
}

export async function renderLineage(pane: HTMLElement, uri: string, explorer: Explorer): Promise<void> {
  const view = await getJson<LineageView>(`/api/lineage?resource=${encodeURIComponent(uri)}`);
  const graph = h('div', { id: 'graph', class: 'graph' });
  const details = h('aside', { id: 'details', class: 'details' }, h('p', { class: 'hint' }, 'Click a node or an edge.'));
  const expandAll = h('button', { id: 'expand-all', type: 'button' }, 'Expand all');
  clear(
    pane,
    h(
      'div',
      { class: 'toolbar' },
      h('strong', { title: view.resource }, view.resource),
      ` · ${view.nodes.length} resources, ${view.edges.length} flows (${view.reducedAway} implied by longer paths hidden), ${view.denials.length} denied attempts `,
      expandAll,
      legend(),
    ),
    h('div', { class: 'lineage' }, graph, details),
  );
  window.provenantGraph = drawLineage(graph, view, (selection) => describe(details, selection, explorer));
  expandAll.addEventListener('click', () => window.provenantGraph?.expandAll());
}

function legend(): HTMLElement {
  const swatch = (cls: string, text: string): HTMLElement => h('span', { class: `swatch ${cls}` }, text);
  return h(
    'span',
    { class: 'legend' },
    swatch('public', 'public'),
    swatch('internal', 'internal'),
    swatch('confidential', 'confidential'),
    swatch('secret', 'secret'),
    h('span', { class: 'denied-key' }, '- - denied'),
  );
}

function describe(details: HTMLElement, selection: Selection, explorer: Explorer): void {
  const row = (name: string, value: Node | string): HTMLElement => h('tr', {}, h('th', {}, name), h('td', {}, value));
  if (selection.kind === 'node') {
    const { node } = selection;
    const timeline = h('button', { type: 'button', id: 'open-timeline' }, 'Timeline of this resource');
    timeline.addEventListener('click', () => explorer.openTimeline(node.id));
    const focus = h('button', { type: 'button', id: 'focus-node' }, 'Lineage of this resource');
    focus.addEventListener('click', () => explorer.open(node.id));
    clear(
      details,
      h('h2', {}, node.short),
      h('table', {}, row('URI', node.id), row('group', node.group), row('labels', labelText(node.labels)), row('hops', String(node.depth))),
      timeline,
      focus,
    );
  } else if (selection.kind === 'edge') {
    const { edge } = selection;
    clear(
      details,
      h('h2', {}, 'Flow'),
      h(
        'table',
        {},
        row('from', edge.from),
        row('to', edge.to),
        row('services', edge.services.join(', ')),
        row('latest', edge.time),
        row('traces', h('span', {}, ...edge.traceIds.flatMap((t) => [traceLink(t, explorer.traceUrl), ' ']))),
      ),
    );
  } else {
    const { denial } = selection;
    clear(
      details,
      h('h2', { class: 'denied' }, `Denied: ${denial.rule ?? 'no rule'}`),
      h(
        'table',
        { id: 'denial-details' },
        row('reason', denial.reason ?? '—'),
        row('from', denial.from),
        row('to', denial.to),
        row('data labels', labelText(denial.labels)),
        row('service', denial.service),
        row('time', denial.time),
        row('trace', traceLink(denial.traceId, explorer.traceUrl)),
      ),
    );
  }
}
