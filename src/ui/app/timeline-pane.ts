/** The timeline tab: every record naming a resource, newest first. */
import type { JournalRecord } from '../../journal/format.js';
import { clear, getJson, h, labelText, traceLink } from './dom.js';

export async function renderTimeline(pane: HTMLElement, uri: string, traceUrl: string | null): Promise<void> {
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
      h('td', {}, traceLink(r.traceId, traceUrl)),
    ),
  );
  clear(
    pane,
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
