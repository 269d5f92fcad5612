/**
 * The flow record: the one shape of what the engine hands to the journal, the lineage spans'
 * attributes and in-process subscribers. The journal adds its envelope (seq, service, node, pid,
 * hash) around exactly these fields. Records hold URIs, labels, sizes and digests, never the data.
 */
import type { PublicLabels } from '../provenance/labels.js';
import type { DecisionKind } from '../policy/types.js';

export type FlowOp = 'read' | 'write' | 'copy' | 'move' | 'delete' | 'record';

export interface FlowRecord {
  /** Milliseconds since the epoch. */
  time: number;
  op: FlowOp;
  /** URI of the resource read or written (for copy/move: the destination). */
  resource: string;
  /** Source URIs the data derives from (for a read: the resource's own provenance). */
  sources: string[];
  labels: PublicLabels;
  decision?: DecisionKind;
  rule?: string;
  reason?: string;
  /** Digest of the compiled policy in force (`sha256:<hex>`), so the decision can be replayed. */
  policy?: string;
  bytes?: number;
  /** Digest of the content, `<algorithm>:<hex>`, when journal.contentHash is on and the bytes were at hand. */
  contentDigest?: string;
  user?: string;
  traceId?: string;
  spanId?: string;
  /** Application-level action for `record` events (Tracer-style), e.g. `dataset.created`. */
  action?: string;
  attributes?: Record<string, string | number | boolean>;
}

/**
 * The order of a record's fields after `time` wherever it is written out (journal lines), so the
 * bytes do not depend on how a record object was built. Every field but `time` is listed once.
 */
export const FLOW_RECORD_FIELDS = [
  'op',
  'resource',
  'sources',
  'labels',
  'decision',
  'rule',
  'reason',
  'policy',
  'bytes',
  'contentDigest',
  'user',
  'traceId',
  'spanId',
  'action',
  'attributes',
] as const satisfies readonly Exclude<keyof FlowRecord, 'time'>[];

/** Compile-time check that FLOW_RECORD_FIELDS names every field of FlowRecord. */
type UnlistedField = Exclude<keyof FlowRecord, 'time' | (typeof FLOW_RECORD_FIELDS)[number]>;
export const everyFieldListed: [UnlistedField] extends [never] ? true : never = true;

export type FlowListener = (record: Readonly<FlowRecord>) => void;
