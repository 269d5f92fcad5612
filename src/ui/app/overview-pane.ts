/** The overview tab: flows over time, denials by rule, top resources, and every journal's verification. */
import type { FlowSummary } from '../../journal/flows.js';
import type { Stats } from '../../journal/query.js';
import type { VerifyReport } from '../../journal/verify.js';
import { clear, getJson, h } from './dom.js';

interface Overview {
  stats: Stats;
  flows: FlowSummary;
  verify: VerifyReport;
}

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

export async function renderOverview(pane: HTMLElement): Promise<void> {
  const { stats, flows, verify } = await getJson<Overview>('/api/overview');
  clear(
    pane,
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
