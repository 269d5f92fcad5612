/**
 * Where labelled data went: writes grouped by tag (or confidentiality for untagged data) and by
 * destination, in total and over time. The journal records the data's labels, not the
 * destination's, so a destination is named by what its URI says: the node of a file, the
 * host and port of an endpoint, the name of a peer service.
 */
import type { JournalRecord } from './format.js';
import { inWindow, type TimeWindow } from './query.js';
import { forEachRecord } from './decode.js';

export interface FlowCount {
  /** A tag, or `untagged <confidentiality>`. */
  label: string;
  destination: string;
  allowed: number;
  /** Allowed in audit mode although a rule forbids it. */
  violation: number;
  denied: number;
}

export interface FlowBucket {
  /** Start of the bucket (ISO). */
  start: string;
  byLabel: Record<string, number>;
}

export interface FlowSummary {
  counts: FlowCount[];
  /** Allowed writes per label over time, in `buckets` equal slices of the records' time span. */
  series: FlowBucket[];
}

const FLOW_OPS = new Set(['write', 'copy', 'move']);

function destinationOf(uri: string): string {
  const match = /^(file|process):\/\/([^/]*)/.exec(uri);
  if (match) return `node ${match[2]}`;
  return uri.replace(/^service:\/\//, 'service ');
}

function flowLabels(record: JournalRecord): string[] {
  return record.labels.tags.length > 0 ? record.labels.tags : [`untagged ${record.labels.confidentiality}`];
}

export function flowSummary(stateDirs: readonly string[], window: TimeWindow, buckets = 12): FlowSummary {
  const counts = new Map<string, FlowCount>();
  const allowed: { time: number; labels: string[] }[] = [];
  forEachRecord(stateDirs, (record) => {
    if (!FLOW_OPS.has(record.op) || !inWindow(record, window)) return;
    const destination = destinationOf(record.resource);
    const labels = flowLabels(record);
    for (const label of labels) {
      const key = `${label}\u0000${destination}`;
      const count = counts.get(key) ?? { label, destination, allowed: 0, violation: 0, denied: 0 };
      if (record.decision === 'deny') count.denied++;
      else if (record.decision === 'violation') count.violation++;
      else count.allowed++;
      counts.set(key, count);
    }
    if (record.decision !== 'deny') allowed.push({ time: Date.parse(record.time), labels });
  });
  return {
    counts: [...counts.values()].sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : a.destination < b.destination ? -1 : 1)),
    series: bucketed(allowed, buckets),
  };
}

function bucketed(flows: { time: number; labels: string[] }[], buckets: number): FlowBucket[] {
  if (flows.length === 0) return [];
  const first = Math.min(...flows.map((f) => f.time));
  const last = Math.max(...flows.map((f) => f.time));
  const width = Math.max(1, Math.ceil((last - first + 1) / buckets));
  const series: FlowBucket[] = Array.from({ length: buckets }, (_, i) => ({
    start: new Date(first + i * width).toISOString(),
    byLabel: {},
  }));
  for (const flow of flows) {
    const bucket = series[Math.min(buckets - 1, Math.floor((flow.time - first) / width))];
    for (const label of flow.labels) bucket.byLabel[label] = (bucket.byLabel[label] ?? 0) + 1;
  }
  return series;
}
