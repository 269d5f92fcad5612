/** The explorer page: search, lineage graph, timeline, overview and run comparison over the JSON API. */
import { renderCompare } from './compare-pane.js';
import { clear, getJson, h } from './dom.js';
import { renderLineage, type Explorer } from './lineage-pane.js';
import { renderOverview } from './overview-pane.js';
import { renderTimeline } from './timeline-pane.js';

interface Config {
  traceUrl: string | null;
  stateDirs: string[];
}

type Tab = 'lineage' | 'timeline' | 'overview' | 'compare';
const TABS: Tab[] = ['lineage', 'timeline', 'overview', 'compare'];

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
  if (tab === 'overview') return renderOverview(panes.overview);
  if (tab === 'compare') return renderCompare(panes.compare);
  if (resource === null) {
    clear(panes[tab], h('p', { class: 'hint' }, 'Search for a file path or URI to see its lineage and timeline.'));
    return;
  }
  return tab === 'lineage' ? renderLineage(panes.lineage, resource, explorer) : renderTimeline(panes.timeline, resource, config.traceUrl);
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

const explorer: Explorer = {
  get traceUrl() {
    return config.traceUrl;
  },
  open,
  openTimeline(uri) {
    resource = uri;
    search.value = uri;
    show('timeline');
  },
};

for (const button of tabs.querySelectorAll<HTMLButtonElement>('button'))
  button.addEventListener('click', () => show(button.dataset['tab'] as Tab));

void getJson<Config>('/api/config').then((loaded) => {
  config = loaded;
  const start = new URLSearchParams(location.search).get('resource');
  if (start) open(start);
  else show('overview');
});
