/** The compare tab: inputs and outputs of two runs (trace ids or time windows) side by side. */
import type { RunComparison, RunResource, RunSummary } from '../../journal/runs.js';
import { clear, getJson, h, labelText } from './dom.js';

export function renderCompare(pane: HTMLElement): Promise<void> {
  if (pane.childElementCount > 0) return Promise.resolve();
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
  clear(pane, h('p', {}, 'Run A ', a, ' Run B ', b, ' ', go), out);
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
