/**
 * Journal records → OpenLineage run events. A run is one request or `run()` scope (its trace id)
 * of one service, or, for records with no trace (process context, repeat summaries), the
 * process's log. Its job is the service, plus the request's method and route when the run began
 * at an incoming HTTP request. Reads are inputs; allowed writes, copies and moves are outputs,
 * each with the datasets it derives from (`lineage` facet), its labels (`tags`) and its decision
 * (`provenant`). Denied writes moved nothing: they are listed on the run, never as outputs.
 * Each run gives a START (time of its first record) and a COMPLETE (its last) event.
 */
import { createHash } from 'node:crypto';
import type { JournalRecord } from '../journal/format.js';
import type { PublicLabels } from '../provenance/labels.js';
import {
  customFacetSchema,
  lineageFacet,
  RUN_EVENT_SCHEMA,
  tagsFacet,
  type Dataset,
  type Denial,
  type OutputFlowFacet,
  type RunEvent,
} from './facets.js';
import { datasetName, routeOf } from './naming.js';

export interface JournalEntry {
  record: JournalRecord;
  /** The log (segment-file prefix or origin) the record belongs to: the run of records with no trace. */
  log: string;
}

export interface MappingOptions {
  /** Namespace of the jobs. */
  namespace: string;
  producer: string;
}

interface Output {
  labels: PublicLabels;
  sources: Set<string>;
  flow: Omit<OutputFlowFacet, '_producer' | '_schemaURL'>;
}

interface Run {
  key: string;
  record: JournalRecord;
  first: string;
  last: string;
  route: string | undefined;
  inputs: Map<string, PublicLabels>;
  outputs: Map<string, Output>;
  denials: Denial[];
}

const OUTPUT_OPS = new Set(['write', 'copy', 'move']);

/** Collects records into runs; `events()` gives each run's START and COMPLETE events. */
export class RunCollector {
  private readonly runs = new Map<string, Run>();

  constructor(private readonly options: MappingOptions) {}

  get size(): number {
    return this.runs.size;
  }

  add({ record, log }: JournalEntry): void {
    if (record.op !== 'read' && !OUTPUT_OPS.has(record.op)) return;
    const key = `${record.service}\u0000${record.node}\u0000${record.traceId ?? `log ${log}`}`;
    let run = this.runs.get(key);
    if (run === undefined) {
      run = { key, record, first: record.time, last: record.time, route: undefined, inputs: new Map(), outputs: new Map(), denials: [] };
      this.runs.set(key, run);
    }
    if (record.time < run.first) run.first = record.time;
    if (record.time > run.last) run.last = record.time;
    run.route ??= requestRoute(record);
    if (record.op === 'read') run.inputs.set(record.resource, record.labels);
    else if (record.decision === 'deny') run.denials.push(denial(record));
    else addOutput(run.outputs, record);
  }

  events(): RunEvent[] {
    return [...this.runs.values()].flatMap((run) => this.runEvents(run));
  }

  private runEvents(run: Run): RunEvent[] {
    const { producer, namespace } = this.options;
    const { service, node, traceId, user } = run.record;
    const job = { namespace, name: run.route === undefined ? service : `${service} ${run.route}` };
    const runId = uuidFrom(run.key);
    const start: RunEvent = {
      eventType: 'START',
      eventTime: run.first,
      producer,
      schemaURL: RUN_EVENT_SCHEMA,
      run: { runId },
      job,
      inputs: [],
      outputs: [],
    };
    const runFacet = {
      _producer: producer,
      _schemaURL: customFacetSchema(producer, 'RunFlowFacet'),
      service,
      node,
      ...(traceId !== undefined ? { traceId } : {}),
      ...(user !== undefined ? { user } : {}),
      denials: run.denials,
    };
    const inputs: Dataset[] = [...run.inputs].map(([uri, labels]) => ({
      ...datasetName(uri),
      facets: { tags: tagsFacet(producer, labels) },
    }));
    const outputs: Dataset[] = [...run.outputs].map(([uri, output]) => ({
      ...datasetName(uri),
      facets: {
        lineage: lineageFacet(producer, [...output.sources].map(datasetName)),
        tags: tagsFacet(producer, output.labels),
        provenant: { _producer: producer, _schemaURL: customFacetSchema(producer, 'OutputFlowFacet'), ...output.flow },
      },
    }));
    const complete: RunEvent = {
      ...start,
      eventType: 'COMPLETE',
      eventTime: run.last,
      run: { runId, facets: { provenant: runFacet } },
      inputs,
      outputs,
    };
    return [start, complete];
  }
}

/** The incoming request's method and route, from the read that began a request's context. */
function requestRoute(record: JournalRecord): string | undefined {
  const path = record.attributes?.['url.path'];
  const method = record.attributes?.['http.request.method'];
  if (record.op !== 'read' || typeof path !== 'string' || typeof method !== 'string') return undefined;
  return `${method} ${routeOf(path)}`;
}

function denial(record: JournalRecord): Denial {
  return {
    destination: record.resource,
    rule: record.rule ?? '(none)',
    reason: record.reason ?? '',
    time: record.time,
    ...(record.policy !== undefined ? { policy: record.policy } : {}),
  };
}

/** One output per resource and run: sources accumulate; a violation outranks an allow. */
function addOutput(outputs: Map<string, Output>, record: JournalRecord): void {
  const count = typeof record.attributes?.['provenant.repeats'] === 'number' ? record.attributes['provenant.repeats'] : 1;
  const known = outputs.get(record.resource);
  const flow = {
    decision: record.decision ?? 'allow',
    ...(record.rule !== undefined ? { rule: record.rule } : {}),
    ...(record.reason !== undefined ? { reason: record.reason } : {}),
    ...(record.policy !== undefined ? { policy: record.policy } : {}),
    records: count + (known?.flow.records ?? 0),
  };
  if (known === undefined) {
    outputs.set(record.resource, { labels: record.labels, sources: new Set(record.sources), flow });
    return;
  }
  for (const source of record.sources) known.sources.add(source);
  known.labels = record.labels;
  known.flow = known.flow.decision === 'violation' && flow.decision !== 'violation' ? { ...known.flow, records: flow.records } : flow;
}

/** A stable run id (RFC 9562 version 8: custom) so exporting the same records twice names the same runs. */
export function uuidFrom(key: string): string {
  const bytes = createHash('sha256').update(key).digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x80;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
