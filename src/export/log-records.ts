/**
 * Journal lines as OTLP log records: the body is the line as written (a record or a checkpoint),
 * the attributes name it under `provenant.*` and, where they exist, semantic-convention names.
 * Every log record carries a stable id (`provenant.record.id`) so a receiver de-duplicates what
 * at-least-once delivery sends twice.
 */
import type { AnyValue, Attributes } from '@opentelemetry/api';
import type { CheckpointLine, JournalRecord, SegmentHeader } from '../journal/format.js';
import { sourcesDigest } from '../provenance/sources-digest.js';

/**
 * Sources sent per log record. Past it a record sends the first ones (sorted), their count and
 * their digest (`sourcesDigest`, as signed baggage does past its budget, and as the journal's set
 * definition states): a receiver tells the exact set by checking the digest against the journal.
 */
export const EXPORTED_SOURCES = 100;

/** OTLP SeverityNumber values used here (INFO, WARN). */
const INFO = 9;
const WARN = 13;

export type JournalEventName =
  | 'provenant.flow'
  | 'provenant.denial'
  | 'provenant.violation'
  | 'provenant.record'
  | 'provenant.attest'
  | 'provenant.monitor'
  | 'provenant.checkpoint';

/** One journal line ready for an exporter: plain data, so it crosses a worker boundary as is. */
export interface JournalLogRecord {
  timeMs: number;
  eventName: JournalEventName;
  severityNumber: number;
  severityText: string;
  body: AnyValue;
  attributes: Attributes;
  traceId?: string;
  spanId?: string;
}

/** Records: `<log origin>/<seq>` (what `provenant prove` names); checkpoints: `<segment file>:<byte offset>`. */
export function recordId(header: SegmentHeader, record: { seq: number }): string {
  return `${header.log}/${record.seq}`;
}

export function checkpointId(header: SegmentHeader, offset: number): string {
  return `${header.segment}:${offset}`;
}

export function fromRecord(header: SegmentHeader, full: JournalRecord): JournalLogRecord {
  const record = capSources(full);
  const eventName = eventOf(record);
  const attributes: Attributes = {
    'event.name': eventName,
    'provenant.record.id': recordId(header, record),
    'provenant.record.seq': record.seq,
    'provenant.record.hash': record.hash,
    'provenant.log': header.log,
    'provenant.segment': header.segment,
    'provenant.op': record.op,
    'provenant.resource': record.resource,
    'provenant.sources': record.sources,
    'provenant.confidentiality': record.labels.confidentiality,
    'provenant.integrity': record.labels.integrity,
    'provenant.tags': record.labels.tags,
    'provenant.locations': record.labels.locations,
    'provenant.node': record.node,
    'process.pid': record.pid,
    ...semanticAttributes(record.resource),
  };
  if (record.sourcesCount !== undefined) {
    attributes['provenant.sources.count'] = record.sourcesCount;
    attributes['provenant.sources.digest'] = record.sourcesDigest;
  }
  if (record.decision !== undefined) attributes['provenant.decision'] = record.decision;
  if (record.rule !== undefined) attributes['provenant.rule'] = record.rule;
  if (record.reason !== undefined) attributes['provenant.reason'] = record.reason;
  if (record.policy !== undefined) attributes['provenant.policy'] = record.policy;
  if (record.bytes !== undefined) attributes['provenant.bytes'] = record.bytes;
  if (record.user !== undefined) attributes['enduser.id'] = record.user;
  if (record.action !== undefined) attributes['provenant.action'] = record.action;
  const warn = record.decision === 'deny' || record.decision === 'violation';
  return {
    timeMs: Date.parse(record.time),
    eventName,
    severityNumber: warn ? WARN : INFO,
    severityText: warn ? 'WARN' : 'INFO',
    body: toAnyValue(record),
    attributes,
    ...(record.traceId !== undefined && record.spanId !== undefined ? { traceId: record.traceId, spanId: record.spanId } : {}),
  };
}

export function fromCheckpoint(header: SegmentHeader, checkpoint: CheckpointLine, offset: number): JournalLogRecord {
  // The note's second line is the tree size (C2SP checkpoint), the third its root.
  const [, size, root] = checkpoint.note.split('\n');
  return {
    timeMs: Date.parse(checkpoint.time),
    eventName: 'provenant.checkpoint',
    severityNumber: INFO,
    severityText: 'INFO',
    body: toAnyValue(checkpoint),
    attributes: {
      'event.name': 'provenant.checkpoint',
      'provenant.record.id': checkpointId(header, offset),
      'provenant.log': header.log,
      'provenant.segment': header.segment,
      'provenant.checkpoint.origin': header.log,
      'provenant.checkpoint.tree_size': Number(size),
      'provenant.checkpoint.root': root ?? '',
      'provenant.checkpoint.closes': checkpoint.closes ?? 'none',
      'provenant.node': header.node,
      'process.pid': header.pid,
    },
  };
}

type CappedRecord = JournalRecord & { sourcesCount?: number; sourcesDigest?: string };

/** The record with at most EXPORTED_SOURCES sources; past it, with the count and digest of the whole set. */
function capSources(record: JournalRecord): CappedRecord {
  if (record.sources.length <= EXPORTED_SOURCES) return record;
  return {
    ...record,
    sources: record.sources.slice(0, EXPORTED_SOURCES),
    sourcesCount: record.sources.length,
    sourcesDigest: sourcesDigest(record.sources),
  };
}

function eventOf(record: JournalRecord): JournalEventName {
  if (record.decision === 'deny') return 'provenant.denial';
  if (record.decision === 'violation') return 'provenant.violation';
  if (record.op === 'record' || record.op === 'attest' || record.op === 'monitor') return `provenant.${record.op}`;
  return 'provenant.flow';
}

/** `file.path`, `server.address`/`server.port`, `url.full` from a resource URI, as lineage spans name them. */
function semanticAttributes(resource: string): Attributes {
  let url: URL;
  try {
    url = new URL(resource);
  } catch {
    return {};
  }
  if (url.protocol === 'file:') return { 'file.path': decodeURIComponent(url.pathname) };
  if (url.protocol !== 'tcp:' && url.protocol !== 'http:' && url.protocol !== 'https:') return {};
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  const attributes: Attributes = { 'server.address': url.hostname.replace(/^\[|\]$/g, ''), 'server.port': port };
  if (url.protocol !== 'tcp:') attributes['url.full'] = resource;
  return attributes;
}

/** JSON as an OTLP AnyValue: objects become kvlists, arrays arrays; undefined members are left out. */
function toAnyValue(value: unknown): AnyValue {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map(toAnyValue);
  if (typeof value === 'object') {
    const out: Record<string, AnyValue> = {};
    for (const [key, member] of Object.entries(value)) if (member !== undefined) out[key] = toAnyValue(member);
    return out;
  }
  return value;
}
