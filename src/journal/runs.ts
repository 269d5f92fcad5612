/**
 * Comparing two runs. A run is one trace (a trace id) or a time window; its inputs are the
 * resources it read, its outputs those it wrote (with the decision), each with the labels the
 * journal recorded. The comparison says what only one run touched and where labels differ.
 */
import type { PublicLabels } from '../provenance/labels.js';
import { queryRecords, type QueryFilter } from './query.js';

export interface RunSelector {
  traceId?: string | undefined;
  /** Epoch ms, inclusive. */
  since?: number | undefined;
  until?: number | undefined;
}

export interface RunResource {
  resource: string;
  labels: PublicLabels;
  /** For outputs: allow, deny or violation (the latest). */
  decision: string | null;
}

export interface RunSummary {
  selector: RunSelector;
  records: number;
  services: string[];
  inputs: RunResource[];
  outputs: RunResource[];
}

export interface RunDifference {
  side: 'inputs' | 'outputs';
  resource: string;
  /** What run A and run B recorded for it; null where that run did not touch it. */
  a: RunResource | null;
  b: RunResource | null;
}

export interface RunComparison {
  a: RunSummary;
  b: RunSummary;
  differences: RunDifference[];
}

const OUTPUT_OPS = new Set(['write', 'copy', 'move', 'delete']);

function summarizeRun(stateDirs: readonly string[], selector: RunSelector): RunSummary {
  const filter: QueryFilter = { traceId: selector.traceId, since: selector.since, until: selector.until };
  // Newest first, so the first record seen for a resource is its latest.
  const { records } = queryRecords(stateDirs, filter, Number.MAX_SAFE_INTEGER, 1);
  const inputs = new Map<string, RunResource>();
  const outputs = new Map<string, RunResource>();
  for (const record of records) {
    const side = record.op === 'read' ? inputs : OUTPUT_OPS.has(record.op) ? outputs : undefined;
    if (side && !side.has(record.resource))
      side.set(record.resource, {
        resource: record.resource,
        labels: record.labels,
        decision: side === outputs ? (record.decision ?? null) : null,
      });
  }
  const byUri = (a: RunResource, b: RunResource): number => (a.resource < b.resource ? -1 : 1);
  return {
    selector,
    records: records.length,
    services: [...new Set(records.map((r) => r.service))].sort(),
    inputs: [...inputs.values()].sort(byUri),
    outputs: [...outputs.values()].sort(byUri),
  };
}

export function compareRuns(stateDirs: readonly string[], a: RunSelector, b: RunSelector): RunComparison {
  const runA = summarizeRun(stateDirs, a);
  const runB = summarizeRun(stateDirs, b);
  const differences: RunDifference[] = [];
  for (const side of ['inputs', 'outputs'] as const) {
    const left = new Map(runA[side].map((r) => [r.resource, r]));
    const right = new Map(runB[side].map((r) => [r.resource, r]));
    for (const resource of [...new Set([...left.keys(), ...right.keys()])].sort()) {
      const inA = left.get(resource) ?? null;
      const inB = right.get(resource) ?? null;
      if (!inA || !inB || !sameResult(inA, inB)) differences.push({ side, resource, a: inA, b: inB });
    }
  }
  return { a: runA, b: runB, differences };
}

function sameResult(a: RunResource, b: RunResource): boolean {
  return a.decision === b.decision && JSON.stringify(a.labels) === JSON.stringify(b.labels);
}
