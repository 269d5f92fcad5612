/** The explorer page: search, lineage graph, timeline, overview and run comparison over the JSON API. */
import type { JournalRecord } from '../../journal/format.js';
import type { FlowSummary } from '../../journal/flows.js';
import type { Stats } from '../../journal/query.js';
import type { RunComparison, RunResource, RunSummary } from '../../journal/runs.js';
import type { VerifyReport } from '../../journal/verify.js';
import type { LineageView } from '../lineage-view.js';
import { clear, getJson, h, labelText, traceLink } from './dom.js';
import { drawLineage, type GraphHandle, type Selection } from './graph.js';

interface Config {
  traceUrl: string | null;
  stateDirs: string[];
}

interface Overview {
  stats: Stats;
  flows: FlowSummary;
  verify: VerifyReport;
}

type Tab = 'lineage' | 'timeline' | 'overview' | 'compare';
const TABS: Tab[] = ['lineage', 'timeline', 'overview', 'compare'];

declare global {
  interface Window {
    /** The live graph, for tests and the curious (read it from the devtools console). */
    provenantGraph?: GraphHandle;
  }
}

const root = document.getElementById('app') ?? document.body;
let config: Config = { traceUrl: null, stateDirs: [] };
let resource: string | null = null;

const search = h('input', { id: 'search', type: 'search', placeholder: 'Search a path or URI…', autocomplete: 'off' });
const results = h('ul', { id: 'search-results', class: 'results' });
const tabs = h('nav', { class: 'tabs' }, ...TABS.map((tab) => h('button', { 'data-tab': tab, type: 'button' }, tab)));
const status = h('div', { id: 'status', class: 'status' });
const panes = Object.fromEntries(TABS.map((tab) => [tab, h('section', { id: `pane-${tab}`, class: 'pane' })])) as Record<Tab, HTMLElement>;
root.append(
  h('header', {}, h('h1', {}, 'provenant'), h('div', { class: 'search' }, search, results), tabs),
  status,
  ...TABS.map((tab) => panes[tab]),
);

function show(tab: Tab): void {
  for (const t of TABS) {
    panes[t].hidden = t !== tab;
    tabs.querySelector(`[data-tab="${t}"]`)?.classList.toggle('active', t === tab);
  }
  void render(tab).catch((error: unknown) => {
    status.textContent = error instanceof Error ? error.message : String(error);
  });
}

async function render(tab: Tab): Promise<void> {
  status.textContent = '';
  if (tab === 'overview') return renderOverview();
  if (tab === 'compare') return renderCompare();
  if (resource === null) {
    clear(panes[tab], h('p', { class: 'hint' }, 'Search for a file path or URI to see its lineage and timeline.'));
    return;
  }
  return tab === 'lineage' ? renderLineage(resource) : renderTimeline(resource);
}

let searchTimer: ReturnType<typeof setTimeout> | undefined;
search.addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => void runSearch(search.value), 150);
});

async function runSearch(query: string): Promise<void> {
  if (query.trim() === '') return clear(results);
  const found = await getJson<{ resource: string; records: number }[]>(`/api/search?q=${encodeURIComponent(query.trim())}`);
  clear(
    results,
    ...found.map((r) => {
      const item = h(
        'li',
        {},
        h('button', { type: 'button', 'data-resource': r.resource, title: r.resource }, r.resource),
        ` ${r.records}`,
      );
      item.querySelector('button')?.addEventListener('click', () => open(r.resource));
      return item;
    }),
  );
}

function open(uri: string): void {
  resource = uri;
  clear(results);
  search.value = uri;
  show('lineage');
}

async function renderLineage(uri: string): Promise<void> {
  const view = await getJson<LineageView>(`/api/lineage?resource=${encodeURIComponent(uri)}`);
  const graph = h('div', { id: 'graph', class: 'graph' });
  const details = h('aside', { id: 'details', class: 'details' }, h('p', { class: 'hint' }, 'Click a node or an edge.'));
  const expandAll = h('button', { id: 'expand-all', type: 'button' }, 'Expand all');
  clear(
    panes.lineage,
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
  window.provenantGraph = drawLineage(graph, view, (selection) => describe(details, selection));
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

function describe(details: HTMLElement, selection: Selection): void {
  const row = (name: string, value: Node | string): HTMLElement => h('tr', {}, h('th', {}, name), h('td', {}, value));
  if (selection.kind === 'node') {
    const { node } = selection;
    const timeline = h('button', { type: 'button', id: 'open-timeline' }, 'Timeline of this resource');
    timeline.addEventListener('click', () => {
      resource = node.id;
      search.value = node.id;
      show('timeline');
    });
    const focus = h('button', { type: 'button', id: 'focus-node' }, 'Lineage of this resource');
    focus.addEventListener('click', () => open(node.id));
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
        row('traces', h('span', {}, ...edge.traceIds.flatMap((t) => [traceLink(t, config.traceUrl), ' ']))),
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
        row('trace', traceLink(denial.traceId, config.traceUrl)),
      ),
    );
  }
}

async function renderTimeline(uri: string): Promise<void> {
  const { records, total } = await getJson<{ records: JournalRecord[]; total: number }>(
    `/api/timeline?resource=${encodeURIComponent(uri)}`,
  );
  const rows = records.map((r) =>
    h(
      'tr',
      { class: r.decision === 'deny' ? 'deny' : r.decision === 'violation' ? 'violation' : '' },
      h('td', {}, r.time),
      h('td', {}, r.op),
      h('td', {}, r.decision ?? ''),
      h('td', {}, r.rule ?? ''),
      h('td', {}, r.service),
      h('td', {}, r.user ?? ''),
      h('td', { title: r.resource }, r.resource === uri ? '(this)' : r.resource),
      h('td', {}, labelText(r.labels)),
      h('td', {}, traceLink(r.traceId, config.traceUrl)),
    ),
  );
  clear(
    panes.timeline,
    h('p', {}, `${total} record(s) naming `, h('strong', {}, uri), ' as resource or source, newest first.'),
    h(
      'table',
      { id: 'timeline', class: 'grid' },
      h(
        'thead',
        {},
        h('tr', {}, ...['time', 'op', 'decision', 'rule', 'service', 'user', 'resource', 'labels', 'trace'].map((c) => h('th', {}, c))),
      ),
      h('tbody', {}, ...rows),
    ),
  );
}

/** Horizontal bars: allowed in blue, then denied in red, scaled to the largest row. */
function bars(rows: { name: string; allowed: number; denied: number }[], id: string): HTMLElement {
  const max = Math.max(1, ...rows.map((r) => r.allowed + r.denied));
  const segment = (cls: string, n: number): HTMLElement => h('div', { class: `bar ${cls}`, style: `width:${(100 * n) / max}%` });
  return h(
    'table',
    { id, class: 'bars' },
    h(
      'tbody',
      {},
      ...rows.map((r) =>
        h(
          'tr',
          {},
          h('th', { title: r.name }, r.name),
          h('td', {}, segment('', r.allowed), segment('deny', r.denied), ` ${r.allowed}${r.denied > 0 ? ` + ${r.denied} denied` : ''}`),
        ),
      ),
    ),
  );
}

const SERIES_COLOURS = ['#5b8bd6', '#e07b39', '#4aa36c', '#9467bd', '#c44e52', '#8c8c8c'];

/** Allowed flows per time slice, stacked by label, with a legend. */
function flowSeries(flows: FlowSummary): HTMLElement {
  const labels = [...new Set(flows.series.flatMap((bucket) => Object.keys(bucket.byLabel)))].sort();
  const colour = (label: string): string => SERIES_COLOURS[labels.indexOf(label) % SERIES_COLOURS.length];
  const max = Math.max(1, ...flows.series.map((bucket) => Object.values(bucket.byLabel).reduce((a, b) => a + b, 0)));
  const columns = flows.series.map((bucket) =>
    h(
      'div',
      {
        class: 'column',
        title: `from ${bucket.start}: ${
          Object.entries(bucket.byLabel)
            .map(([l, n]) => `${l} ${n}`)
            .join(', ') || 'none'
        }`,
      },
      ...labels
        .filter((label) => bucket.byLabel[label])
        .map((label) => h('div', { class: 'fill', style: `height:${(100 * bucket.byLabel[label]) / max}%;background:${colour(label)}` })),
    ),
  );
  const first = flows.series[0]?.start ?? '';
  const last = flows.series[flows.series.length - 1]?.start ?? '';
  return h(
    'div',
    { id: 'flow-series' },
    h('div', { class: 'series' }, ...columns),
    h('div', { class: 'axis' }, h('span', {}, first), h('span', {}, last)),
    h(
      'div',
      { class: 'legend' },
      ...labels.map((label) => h('span', { class: 'swatch', style: `background:${colour(label)};color:#fff` }, label)),
    ),
  );
}

async function renderOverview(): Promise<void> {
  const { stats, flows, verify } = await getJson<Overview>('/api/overview');
  clear(
    panes.overview,
    h('h2', {}, `Journals: ${verify.ok ? 'verified' : 'FAILED verification'}`),
    h(
      'table',
      { id: 'verify', class: 'grid' },
      h(
        'thead',
        {},
        h('tr', {}, ...['segment', 'service', 'records', 'checkpoints', 'signed by', 'closed', 'status'].map((c) => h('th', {}, c))),
      ),
      h(
        'tbody',
        {},
        ...verify.segments.map((s) =>
          h(
            'tr',
            { class: s.status === 'failed' ? 'deny' : '' },
            h('td', {}, s.file),
            h('td', {}, s.service ?? '?'),
            h('td', {}, String(s.records)),
            h('td', {}, String(s.checkpoints)),
            h('td', {}, s.vkey === null ? 'unsigned' : s.vkey.slice(0, s.vkey.lastIndexOf('+'))),
            h('td', {}, s.closed ? 'yes' : 'no'),
            h('td', {}, s.status),
          ),
        ),
      ),
    ),
    ...verify.failures.map((f) => h('p', { class: 'denied' }, `${f.file}${f.seq === null ? '' : ` seq ${f.seq}`}: ${f.message}`)),
    h('p', { class: 'hint' }, 'Witness status: checked by `provenant verify --witness FILE`; the UI reads local journals only.'),
    h('h2', {}, 'Allowed flows over time, by label'),
    flowSeries(flows),
    h('h2', {}, 'Flows by label and destination'),
    bars(
      flows.counts.map((c) => ({
        name: `${c.label} → ${c.destination}`,
        allowed: c.allowed + c.violation,
        denied: c.denied,
      })),
      'flows-by-label',
    ),
    h('h2', {}, 'Denials by rule'),
    bars(
      stats.denialsByRule.map((d) => ({ name: d.rule, allowed: d.violation, denied: d.deny })),
      'denials-by-rule',
    ),
    h('h2', {}, 'Top resources'),
    bars(
      stats.topResources.map((r) => ({ name: r.resource, allowed: r.records, denied: 0 })),
      'top-resources',
    ),
  );
}

function renderCompare(): Promise<void> {
  if (panes.compare.childElementCount > 0) return Promise.resolve();
  const a = h('input', { id: 'run-a', placeholder: 'trace id or SINCE..UNTIL', size: '48' });
  const b = h('input', { id: 'run-b', placeholder: 'trace id or SINCE..UNTIL', size: '48' });
  const go = h('button', { id: 'compare-go', type: 'button' }, 'Compare');
  const out = h('div', { id: 'compare-result' });
  go.addEventListener('click', () => {
    const query = `/api/compare?a=${encodeURIComponent(a.value.trim())}&b=${encodeURIComponent(b.value.trim())}`;
    getJson<RunComparison>(query).then(
      (comparison) => clear(out, ...comparisonView(comparison)),
      (error: unknown) => clear(out, h('p', { class: 'denied' }, error instanceof Error ? error.message : String(error))),
    );
  });
  clear(panes.compare, h('p', {}, 'Run A ', a, ' Run B ', b, ' ', go), out);
  return Promise.resolve();
}

function comparisonView(comparison: RunComparison): HTMLElement[] {
  const cell = (r: RunResource | null): string => (r ? `${labelText(r.labels)}${r.decision ? ` (${r.decision})` : ''}` : '—');
  const summary = (name: string, run: RunSummary): HTMLElement =>
    h(
      'div',
      { class: 'run' },
      h('h3', {}, `${name}: ${run.records} record(s), services ${run.services.join(', ') || '—'}`),
      h('h4', {}, 'inputs'),
      h('ul', {}, ...run.inputs.map((r) => h('li', { title: r.resource }, `${r.resource} — ${cell(r)}`))),
      h('h4', {}, 'outputs'),
      h('ul', {}, ...run.outputs.map((r) => h('li', { title: r.resource }, `${r.resource} — ${cell(r)}`))),
    );
  return [
    h('div', { class: 'runs' }, summary('Run A', comparison.a), summary('Run B', comparison.b)),
    h('h3', {}, `What changed: ${comparison.differences.length} difference(s)`),
    h(
      'table',
      { id: 'differences', class: 'grid' },
      h('thead', {}, h('tr', {}, ...['', 'resource', 'run A', 'run B'].map((c) => h('th', {}, c)))),
      h(
        'tbody',
        {},
        ...comparison.differences.map((d) =>
          h(
            'tr',
            { class: d.a === null ? 'added' : d.b === null ? 'removed' : 'changed' },
            h('td', {}, d.side),
            h('td', {}, d.resource),
            h('td', {}, cell(d.a)),
            h('td', {}, cell(d.b)),
          ),
        ),
      ),
    ),
  ];
}

for (const button of tabs.querySelectorAll<HTMLButtonElement>('button'))
  button.addEventListener('click', () => show(button.dataset['tab'] as Tab));

void getJson<Config>('/api/config').then((loaded) => {
  config = loaded;
  const start = new URLSearchParams(location.search).get('resource');
  if (start) open(start);
  else show('overview');
});
