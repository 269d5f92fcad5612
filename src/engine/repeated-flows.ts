/**
 * Aggregation of repeated identical flows across contexts. A server answering the same caller
 * with data of the same provenance thousands of times a second makes one distinct flow per
 * request context; spanning and journaling each would cost more than the request itself. Within
 * a window, the first occurrence of a flow (same op, resource, provenance set, decision, user,
 * policy epoch) gets its span and journal record as usual; the repeats are counted and written
 * as one summary record (`provenant.repeats`) when the window closes or the process exits.
 * Denials are never aggregated: each one is its own record and span.
 */
import type { SpanContext } from '@opentelemetry/api';
import { Doorkeeper, mixHash } from '../support/doorkeeper.js';
import { stringHash } from '../support/string-hash.js';
import type { FlowRecord } from './flow-record.js';

/** What identifies a flow for aggregation. Numbers and short strings: compared, never hashed. */
export interface FlowIdentity {
  op: FlowRecord['op'];
  resourceId: number;
  setId: number;
  epoch: number;
  decision: string;
  user: string | undefined;
}

interface RepeatEntry extends FlowIdentity {
  readonly record: FlowRecord;
  readonly span: SpanContext | undefined;
  count: number;
  first: number;
  last: number;
}

/** Bound on distinct flows remembered per window; beyond it flows are simply not aggregated. */
const MAX_ENTRIES = 4096;
/**
 * Flows remembered from their first occurrence in a window; past this many, only flows that
 * occurred before (in any window) are. Why: a stream of flows that never repeat (a new user's
 * file per request) would otherwise hold up to MAX_ENTRIES records through a whole window, long
 * enough to survive scavenges; a server with few flows sees no difference.
 */
const FIRST_SIGHT_ENTRIES = 256;

export class RepeatedFlows {
  /** By resource id: the few distinct flows to that resource in this window. */
  private entries = new Map<number, RepeatEntry[]>();
  private size = 0;
  private windowStart = Date.now();
  private timer: NodeJS.Timeout | undefined;
  /** Four slots per flow a window can hold: a flow seen a window ago is still told apart. */
  private readonly sighted = new Doorkeeper(4 * MAX_ENTRIES);

  constructor(
    private readonly windowMs: number,
    private readonly writeSummary: (record: FlowRecord) => void,
  ) {}

  /**
   * The first occurrence when this flow already happened in this window (and counts it).
   * Positional arguments: this runs for every flow of every request, and allocates nothing.
   */
  repeatOf(
    op: FlowRecord['op'],
    resourceId: number,
    setId: number,
    epoch: number,
    decision: string,
    user: string | undefined,
    now: number,
  ): { readonly record: FlowRecord; readonly span: SpanContext | undefined } | undefined {
    if (now - this.windowStart >= this.windowMs) this.flush(now);
    const list = this.entries.get(resourceId);
    if (list === undefined) return undefined;
    let entry: RepeatEntry | undefined;
    for (const candidate of list) {
      if (
        candidate.setId === setId &&
        candidate.op === op &&
        candidate.epoch === epoch &&
        candidate.decision === decision &&
        candidate.user === user
      ) {
        entry = candidate;
        break;
      }
    }
    if (entry === undefined) return undefined;
    if (entry.count === 0) entry.first = now;
    entry.count++;
    entry.last = now;
    this.timer ??= setTimeout(() => this.flush(Date.now()), this.windowMs).unref();
    return entry;
  }

  remember(flow: FlowIdentity, record: FlowRecord, span: SpanContext | undefined): void {
    if (this.size >= MAX_ENTRIES) return;
    const before = this.sighted.note(sighting(flow));
    if (!before && this.size >= FIRST_SIGHT_ENTRIES) return;
    const entry: RepeatEntry = { ...flow, record, span, count: 0, first: 0, last: 0 };
    const list = this.entries.get(flow.resourceId);
    if (list) list.push(entry);
    else this.entries.set(flow.resourceId, [entry]);
    this.size++;
  }

  /** Write one summary record per flow that repeated, and start a new window. */
  flush(now = Date.now()): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const entries = this.entries;
    this.entries = new Map();
    this.size = 0;
    this.windowStart = now;
    for (const list of entries.values()) {
      for (const entry of list) {
        if (entry.count === 0) continue;
        const summary: FlowRecord = {
          ...entry.record,
          time: entry.last,
          attributes: {
            ...entry.record.attributes,
            'provenant.repeats': entry.count,
            'provenant.repeats_since': new Date(entry.first).toISOString(),
          },
        };
        // The ids named the first occurrence's span; the repeats had none of their own.
        delete summary.traceId;
        delete summary.spanId;
        delete summary.contentDigest;
        this.writeSummary(summary);
      }
    }
  }
}

/** A flow's identity as one hash, for the doorkeeper (a collision only admits a flow early). */
function sighting({ op, resourceId, setId, epoch, decision, user }: FlowIdentity): number {
  const hash = mixHash(mixHash(mixHash(stringHash(op), resourceId), setId), epoch);
  return mixHash(mixHash(hash, stringHash(decision)), user === undefined ? 0 : stringHash(user)) || 1;
}
