/** Record queries (newest first, paged) and usage statistics over a journal. */
import { formatPublicLabels } from '../provenance/labels.js';
import type { JournalRecord } from './format.js';
import { forEachRecord } from './decode.js';
import type { ResourceMatcher } from './resource-match.js';

export interface TimeWindow {
  /** Epoch ms, inclusive. */
  since?: number | undefined;
  /** Epoch ms, inclusive. */
  until?: number | undefined;
}

export interface QueryFilter extends TimeWindow {
  /** Any of these user values (the raw id and, for pseudonymised journals, its pseudonym). */
  users?: readonly string[] | undefined;
  /** Matches a record whose resource or one of whose sources is this resource. */
  resource?: ResourceMatcher | undefined;
  decision?: string | undefined;
  traceId?: string | undefined;
}

export interface QueryResult {
  total: number;
  page: number;
  limit: number;
  records: JournalRecord[];
}

export function inWindow(record: JournalRecord, window: TimeWindow): boolean {
  if (window.since === undefined && window.until === undefined) return true;
  const time = Date.parse(record.time);
  return (window.since === undefined || time >= window.since) && (window.until === undefined || time <= window.until);
}

function matches(record: JournalRecord, filter: QueryFilter): boolean {
  if (filter.decision !== undefined && record.decision !== filter.decision) return false;
  if (filter.traceId !== undefined && record.traceId !== filter.traceId) return false;
  if (filter.users && (record.user === undefined || !filter.users.includes(record.user))) return false;
  if (filter.resource && !filter.resource.matches(record.resource) && !record.sources.some((s) => filter.resource?.matches(s)))
    return false;
  return inWindow(record, filter);
}

/** Newest first (time, then service/pid/seq for a stable order); `page` counts from 1. */
export function queryRecords(stateDirs: readonly string[], filter: QueryFilter, limit: number, page: number): QueryResult {
  const found: JournalRecord[] = [];
  forEachRecord(stateDirs, (record) => {
    if (matches(record, filter)) found.push(record);
  });
  found.sort((a, b) => compare(b.time, a.time) || compare(b.service, a.service) || b.pid - a.pid || b.seq - a.seq);
  return { total: found.length, page, limit, records: found.slice((page - 1) * limit, page * limit) };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface Stats {
  records: number;
  byOp: Record<string, number>;
  byDecision: Record<string, number>;
  /** Most used resources: records naming them as resource or source. */
  topResources: { resource: string; records: number }[];
  flowsByLabel: { labels: string; records: number }[];
  denialsByRule: { rule: string; deny: number; violation: number }[];
}

export function journalStats(stateDirs: readonly string[], window: TimeWindow, top = 10): Stats {
  const byOp = new Map<string, number>();
  const byDecision = new Map<string, number>();
  const resources = new Map<string, number>();
  const labels = new Map<string, number>();
  const rules = new Map<string, { deny: number; violation: number }>();
  let records = 0;
  forEachRecord(stateDirs, (record) => {
    if (!inWindow(record, window)) return;
    records++;
    bump(byOp, record.op);
    if (record.decision) bump(byDecision, record.decision);
    for (const uri of new Set([record.resource, ...record.sources])) bump(resources, uri);
    bump(labels, formatPublicLabels(record.labels));
    if (record.decision === 'deny' || record.decision === 'violation') {
      const rule = record.rule ?? '(none)';
      const counts = rules.get(rule) ?? { deny: 0, violation: 0 };
      counts[record.decision]++;
      rules.set(rule, counts);
    }
  });
  return {
    records,
    byOp: Object.fromEntries(byOp),
    byDecision: Object.fromEntries(byDecision),
    topResources: ranked(resources, top).map(([resource, n]) => ({ resource, records: n })),
    flowsByLabel: ranked(labels, Infinity).map(([key, n]) => ({ labels: key, records: n })),
    denialsByRule: [...rules]
      .map(([rule, counts]) => ({ rule, ...counts }))
      .sort((a, b) => b.deny + b.violation - (a.deny + a.violation) || compare(a.rule, b.rule)),
  };
}

function bump(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function ranked(counts: Map<string, number>, top: number): [string, number][] {
  return [...counts].sort((a, b) => b[1] - a[1] || compare(a[0], b[0])).slice(0, top);
}
