/**
 * Format 5's short occurrences, both sides. A server's requests repeat their flows (format 4
 * states each once per segment); what is left per occurrence is its time, its trace and span ids
 * and the attribute values that differ from its flow's (the caller's port, the path), and most
 * of that repeats too: the records of one request share their trace, and its response carries
 * the request's port and path again. So an occurrence `{"seq":N,"flow":F,…}` states:
 *   `t`   milliseconds after the time of the previous record of the segment (absent: 0);
 *   `tr`  the trace id as 22 base64url characters, or −k: the trace of record N−k;
 *   `sp`  the span id as 11 base64url characters;
 *   `a`   the values that differ from the flow's attributes as [index, value, …] pairs (index
 *         into the flow's attribute names in order), or −k: the pairs of occurrence N−k, whose
 *         flow has the same attribute names;
 * and `bytes`, `contentDigest`, `user` as in format 4 (ids that are not lowercase hex of the
 * usual length are stated as `traceId` / `spanId`). k is 1 to BACK − 1, within the segment, so
 * a reader holds BACK records' traces and pairs at most and every segment still reads on its
 * own. A reader or verifier must take every record line of a segment in order (the time is a
 * running sum), which every reader already does for definitions.
 */
import type { FlowRecord } from '../engine/flow-record.js';
import { DefinitionError } from './format.js';

type Attributes = NonNullable<FlowRecord['attributes']>;
type Value = Attributes[string];

/** How far back an occurrence may name a record whose trace or pairs it repeats (in leaves). */
export const BACK = 1024;

const TRACE_HEX = /^[0-9a-f]{32}$/;
const SPAN_HEX = /^[0-9a-f]{16}$/;
const TRACE_B64 = /^[A-Za-z0-9_-]{22}$/;
const SPAN_B64 = /^[A-Za-z0-9_-]{11}$/;

/** What the writer remembers of a trace: its last record, and its last occurrence stating pairs. */
interface TraceMark {
  seq: number;
  pairs?: { seq: number; names: string; text: string };
}

/** What one written record teaches the segment's `RecentRecords`. */
export interface RecentNote {
  seq: number;
  time: number;
  traceId: string | undefined;
  /** An occurrence's pairs (as written, not by reference) and its flow's attribute names. */
  pairs?: { names: string; text: string } | undefined;
}

/** The writer's side: one per segment; `encode` changes nothing, `remember` does once the line is written. */
export class RecentRecords {
  private lastTime: number | undefined;
  /** Traces of the last BACK leaves, oldest first (re-inserted when used again). */
  private readonly traces = new Map<string, TraceMark>();

  /**
   * The members of an occurrence at `seq` after its `"flow":F` (each `,"name":value`), and what to
   * remember of it. `names` are its flow's attribute names (joined), `defined` its flow's attributes.
   */
  encode(seq: number, record: FlowRecord, names: string, defined: Attributes | undefined): { text: string; note: RecentNote } | undefined {
    const time = new Date(record.time).getTime();
    if (this.lastTime === undefined || !Number.isSafeInteger(time)) return undefined;
    let text = time === this.lastTime ? '' : `,"t":${time - this.lastTime}`;
    if (record.bytes !== undefined) text += `,"bytes":${JSON.stringify(record.bytes)}`;
    if (record.contentDigest !== undefined) text += `,"contentDigest":${JSON.stringify(record.contentDigest)}`;
    if (record.user !== undefined) text += `,"user":${JSON.stringify(record.user)}`;
    const { traceId, spanId } = record;
    const mark = traceId === undefined ? undefined : this.traces.get(traceId);
    if (traceId !== undefined) {
      if (mark !== undefined && seq - mark.seq < BACK) text += `,"tr":${mark.seq - seq}`;
      else if (TRACE_HEX.test(traceId)) text += `,"tr":"${Buffer.from(traceId, 'hex').toString('base64url')}"`;
      else text += `,"traceId":${JSON.stringify(traceId)}`;
    }
    if (spanId !== undefined)
      text += SPAN_HEX.test(spanId) ? `,"sp":"${Buffer.from(spanId, 'hex').toString('base64url')}"` : `,"spanId":${JSON.stringify(spanId)}`;
    const pairs = pairsOf(record.attributes, defined);
    let written: RecentNote['pairs'];
    if (pairs !== undefined) {
      const pairsText = JSON.stringify(pairs);
      const earlier = mark?.pairs;
      if (earlier !== undefined && earlier.names === names && earlier.text === pairsText && seq - earlier.seq < BACK)
        text += `,"a":${earlier.seq - seq}`;
      else {
        text += `,"a":${pairsText}`;
        written = { names, text: pairsText };
      }
    }
    return { text, note: { seq, time, traceId, pairs: written } };
  }

  /** After a record (whole or occurrence) is written at `note.seq`. */
  remember(note: RecentNote): void {
    this.lastTime = note.time;
    const { traceId } = note;
    if (traceId === undefined) return;
    const previous = this.traces.get(traceId);
    this.traces.delete(traceId);
    const pairs = note.pairs === undefined ? previous?.pairs : { seq: note.seq, ...note.pairs };
    this.traces.set(traceId, pairs === undefined ? { seq: note.seq } : { seq: note.seq, pairs });
    for (const [trace, mark] of this.traces) {
      if (note.seq - mark.seq < BACK) break;
      this.traces.delete(trace);
    }
  }
}

/** The time, trace and pairs of a whole record (from its parsed line), for the records after it. */
export function wholeNote(seq: number, record: FlowRecord): RecentNote {
  return { seq, time: new Date(record.time).getTime(), traceId: record.traceId };
}

/** [index, value, …] for the attributes that differ from the definition's; undefined when none does. */
function pairsOf(attributes: Attributes | undefined, defined: Attributes | undefined): Value[] | undefined {
  if (attributes === undefined || defined === undefined) return undefined;
  let pairs: Value[] | undefined;
  let index = 0;
  for (const name in defined) {
    const value = attributes[name];
    if (value !== defined[name]) (pairs ??= []).push(index, value);
    index++;
  }
  return pairs;
}

interface Slot {
  seq: number;
  traceId: string | undefined;
  names: readonly string[] | undefined;
  pairs: readonly Value[] | undefined;
}

const OCCURRENCE_MEMBERS = new Set(['seq', 'flow', 't', 'bytes', 'contentDigest', 'user', 'tr', 'sp', 'traceId', 'spanId', 'a', 'h']);

/** The reader's side: one per segment, fed every record line in order. */
export class RecentResolver {
  private lastTime: number | undefined;
  private readonly slots: (Slot | undefined)[] = new Array<Slot | undefined>(BACK);

  /** Takes in a whole record (parsed); throws when its time is not one. */
  whole(seq: number, parsed: Record<string, unknown>): void {
    const time = typeof parsed.time === 'string' ? Date.parse(parsed.time) : NaN;
    if (!Number.isSafeInteger(time)) throw new DefinitionError('record without a valid time');
    this.lastTime = time;
    const traceId = typeof parsed.traceId === 'string' ? parsed.traceId : undefined;
    this.slots[seq % BACK] = { seq, traceId, names: undefined, pairs: undefined };
  }

  /**
   * An occurrence (parsed) as format 4 states one: time as ISO text, ids in hex and the differing
   * attributes as an object. `names` are its flow's attribute names (undefined: no such flow, or
   * one without attributes). Throws a DefinitionError on what does not resolve.
   */
  expand(seq: number, parsed: Record<string, unknown>, names: readonly string[] | undefined): Record<string, unknown> {
    for (const name in parsed)
      if (!OCCURRENCE_MEMBERS.has(name)) throw new DefinitionError(`record names flow ${String(parsed.flow)} and also states "${name}"`);
    const { t = 0, tr, sp, a } = parsed;
    if (this.lastTime === undefined) throw new DefinitionError('occurrence before any record with a time');
    if (!Number.isSafeInteger(t)) throw new DefinitionError('occurrence with a malformed time');
    const time = this.lastTime + (t as number);
    const expanded: Record<string, unknown> = { seq, flow: parsed.flow, time: new Date(time).toISOString() };
    for (const name of ['bytes', 'contentDigest', 'user'] as const) if (parsed[name] !== undefined) expanded[name] = parsed[name];
    let traceId = parsed.traceId;
    if (tr !== undefined) {
      if (traceId !== undefined) throw new DefinitionError('occurrence states its trace twice');
      traceId = typeof tr === 'string' && TRACE_B64.test(tr) ? Buffer.from(tr, 'base64url').toString('hex') : this.back(seq, tr).traceId;
      if (traceId === undefined) throw new DefinitionError(`occurrence repeats the trace of a record without one`);
    }
    let spanId = parsed.spanId;
    if (sp !== undefined) {
      if (spanId !== undefined || typeof sp !== 'string' || !SPAN_B64.test(sp))
        throw new DefinitionError('occurrence with a malformed span id');
      spanId = Buffer.from(sp, 'base64url').toString('hex');
    }
    if (traceId !== undefined) expanded.traceId = traceId;
    if (spanId !== undefined) expanded.spanId = spanId;
    let pairs: readonly Value[] | undefined;
    if (a !== undefined) {
      if (Array.isArray(a)) pairs = a as Value[];
      else {
        const earlier = this.back(seq, a);
        if (earlier.pairs === undefined || !sameNames(earlier.names, names))
          throw new DefinitionError('occurrence repeats the attributes of a record of a flow with other attributes');
        pairs = earlier.pairs;
      }
      expanded.attributes = attributesOf(pairs, names);
    }
    this.lastTime = time;
    this.slots[seq % BACK] = { seq, traceId: typeof traceId === 'string' ? traceId : undefined, names, pairs };
    return expanded;
  }

  /** The record `reference` (−k) names from `seq`. */
  private back(seq: number, reference: unknown): Slot {
    const k = typeof reference === 'number' && Number.isSafeInteger(reference) ? -reference : 0;
    const slot = k >= 1 && k < BACK ? this.slots[(seq - k) % BACK] : undefined;
    if (slot === undefined || slot.seq !== seq - k)
      throw new DefinitionError(`occurrence refers to ${String(reference)}, no record of the ${BACK - 1} before it in this segment`);
    return slot;
  }
}

function sameNames(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return a !== undefined && b !== undefined && a.length === b.length && a.every((name, i) => name === b[i]);
}

/** Pairs back to the object of differing attributes format 4 states. */
function attributesOf(pairs: readonly Value[], names: readonly string[] | undefined): Attributes {
  if (names === undefined || pairs.length % 2 !== 0) throw new DefinitionError('occurrence with malformed attribute pairs');
  const entries: [string, Value][] = [];
  for (let i = 0; i < pairs.length; i += 2) {
    const index = pairs[i];
    const name = typeof index === 'number' && Number.isInteger(index) ? names[index] : undefined;
    if (name === undefined || entries.some(([seen]) => seen === name))
      throw new DefinitionError('occurrence has attributes the flow does not');
    entries.push([name, pairs[i + 1]]);
  }
  // fromEntries defines own members, whatever the names (a "__proto__" attribute stays one).
  return Object.fromEntries(entries);
}
