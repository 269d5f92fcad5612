/**
 * Flow events: what the engine hands to the journal, lineage and in-process subscribers.
 * Records hold URIs, labels, sizes and digests, never the data itself.
 */
import type { PublicLabels } from '../provenance/labels.js';
import type { DecisionKind } from '../policy/types.js';

export type FlowOp = 'read' | 'write' | 'copy' | 'move' | 'delete' | 'record' | 'checkpoint';

export interface FlowEvent {
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

export type FlowListener = (event: Readonly<FlowEvent>) => void;
