/**
 * The flow record: the one shape of what the engine hands to the journal, the lineage spans'
 * attributes and in-process subscribers. The journal adds its envelope (seq, service, node, pid,
 * hash) around exactly these fields. Records hold URIs, labels, sizes and digests, never the data.
 */
import type { PublicLabels } from '../provenance/labels.js';
import type { DecisionKind } from '../policy/types.js';
import type { MonitorMode } from '../config/types.js';
import type { Fact } from '../monitor/facts.js';

/** `attest`: a fact this service vouches for; `monitor`: a monitor's verdict on an action. */
export type FlowOp = 'read' | 'write' | 'copy' | 'move' | 'delete' | 'record' | 'attest' | 'monitor';

/** What a monitor decided about an action, with what an auditor needs to re-derive it. */
export interface VerdictRecord {
  monitor: string;
  mode: MonitorMode;
  effect: 'permit' | 'deny';
  /** The action as a tuple, e.g. `{ relation: 'launch', values: ['m1'] }`. */
  goal: { relation: string; values: string[] };
  /** The monitor's rule text. */
  program: string;
  /** The time the rule was evaluated at (what `within` measures back from). */
  at: number;
  /** The premise no fact satisfied (a permit rule that did not hold). */
  missing?: string;
}

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
  /** `attest` records: the signed fact. */
  fact?: Fact;
  /** `monitor` records: the verdict. */
  verdict?: VerdictRecord;
  /** `monitor` records: the signed facts the verdict rests on. */
  evidence?: Fact[];
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
  'fact',
  'verdict',
  'evidence',
] as const satisfies readonly Exclude<keyof FlowRecord, 'time'>[];

/** Compile-time check that FLOW_RECORD_FIELDS names every field of FlowRecord. */
type UnlistedField = Exclude<keyof FlowRecord, 'time' | (typeof FLOW_RECORD_FIELDS)[number]>;
export const everyFieldListed: [UnlistedField] extends [never] ? true : never = true;

export type FlowListener = (record: Readonly<FlowRecord>) => void;
