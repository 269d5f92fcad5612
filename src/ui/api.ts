/**
 * The explorer's JSON API: read-only views over the journals, each computed by the journal's
 * own readers on request (the journals may still grow while the UI runs). Every answer is
 * derived from journal records alone.
 */
import { flowSummary } from '../journal/flows.js';
import { buildLineage } from '../journal/lineage.js';
import { journalStats, queryRecords } from '../journal/query.js';
import { resourceMatcher } from '../journal/resource-match.js';
import { compareRuns, type RunSelector } from '../journal/runs.js';
import { verifyJournal } from '../journal/verify.js';
import { lineageView } from './lineage-view.js';

export class BadRequest extends Error {}

export interface ApiContext {
  stateDirs: readonly string[];
  /** Template of a trace link, `{traceId}` replaced (e.g. a Jaeger or Tempo URL); null for none. */
  traceUrl: string | null;
}

const SEARCH_LIMIT = 50;
const TIMELINE_LIMIT = 1000;

function required(params: URLSearchParams, name: string): string {
  const value = params.get(name);
  if (value === null || value.trim() === '') throw new BadRequest(`missing query parameter "${name}"`);
  return value.trim();
}

/** `abc…` (32 hex) is a trace id; `since..until` (ISO times) a window. */
function parseRunSelector(text: string): RunSelector {
  if (/^[0-9a-f]{32}$/i.test(text)) return { traceId: text.toLowerCase() };
  const [since, until, extra] = text.split('..');
  const from = Date.parse(since ?? '');
  const to = Date.parse(until ?? '');
  if (extra !== undefined || Number.isNaN(from) || Number.isNaN(to))
    throw new BadRequest(`"${text}" is neither a trace id (32 hex digits) nor a window SINCE..UNTIL of ISO times`);
  return { since: from, until: to };
}

export function handleApi(context: ApiContext, path: string, params: URLSearchParams): unknown {
  const { stateDirs } = context;
  switch (path) {
    case '/api/config':
      return { traceUrl: context.traceUrl, stateDirs };
    case '/api/search': {
      const query = (params.get('q') ?? '').toLowerCase();
      const all = journalStats(stateDirs, {}, Infinity).topResources;
      return all.filter((r) => r.resource.toLowerCase().includes(query)).slice(0, SEARCH_LIMIT);
    }
    case '/api/lineage': {
      const matcher = resourceMatcher(required(params, 'resource'));
      return lineageView([buildLineage(stateDirs, matcher, 'upstream'), buildLineage(stateDirs, matcher, 'downstream')]);
    }
    case '/api/timeline': {
      const matcher = resourceMatcher(required(params, 'resource'));
      const result = queryRecords(stateDirs, { resource: matcher }, TIMELINE_LIMIT, 1);
      return { resource: matcher.display, total: result.total, records: result.records };
    }
    case '/api/overview': {
      const verify = verifyJournal(stateDirs);
      return { stats: journalStats(stateDirs, {}), flows: flowSummary(stateDirs, {}), verify };
    }
    case '/api/compare':
      return compareRuns(stateDirs, parseRunSelector(required(params, 'a')), parseRunSelector(required(params, 'b')));
    default:
      return undefined;
  }
}
