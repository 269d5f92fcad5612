/**
 * Format 5's short occurrences, both sides. A server's requests repeat their flows (format 4
 * states each once per segment); what is left per occurrence is its time, its trace and span ids
 * and the attribute values that differ from its flow's (the caller's port, the path), and most
 * of that repeats too: the records of one request share their trace, and its response carries
 * the request's port and path again. So an occurrence `{"seq":N,"f":F,…}` (F: its flow's
 * definition) states:
 *   `tr`  the trace id as 22 base64url characters, or −k: the trace of record N−k, which states
 *         it (whole, or as 22 characters);
 *   `t`   its time in milliseconds (absent: 0) after that record's time when `tr` is −k, else
 *         after the log's start: the `<startMs>` of its origin
 *         `provenant/<node>/<service>/<pid>-<startMs>-<rand>`, which every checkpoint signs;
 *   `sp`  the span id as 11 base64url characters;
 *   `a`   the values that differ from the flow's attributes as [index, value, …] pairs (index
 *         into the flow's attribute names in order), or −k: the pairs occurrence N−k states,
 *         whose flow has the same attribute names;
 * and `bytes`, `contentDigest`, `user` as in format 4 (ids that are not lowercase hex of the
 * usual length are stated as `traceId` / `spanId`). k is 1 to BACK − 1, within the segment, so
 * a reader holds BACK records at most, every segment still reads on its own, and an occurrence
 * is whole with at most two leaves besides its flow's definition and set (what `prove` needs).
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

/** What the writer remembers of a trace: the record that states it, and the last occurrence stating pairs in it. */
interface TraceMark {
  seq: number;
  time: number;
  pairs?: { seq: number; names: string; text: string };
}

/** What one written record teaches the segment's `RecentRecords`. */
export interface RecentNote {
  seq: number;
  time: number;
  traceId: string | undefined;
  /** Whether the record states its trace (whole, or as 22 characters) rather than naming a record that does. */
  statesTrace: boolean;
  /** An occurrence's pairs (as written, not by reference) and its flow's attribute names. */
  pairs?: { names: string; text: string } | undefined;
}

/** The log's start (ms) from its origin `…/<pid>-<startMs>-<rand>`; undefined when the origin is not one of ours. */
export function logStart(origin: string): number | undefined {
  const match = /\/\d+-(\d+)-[0-9a-f]+$/.exec(origin);
  return match === null ? undefined : Number(match[1]);
}

/** The writer's side: one per segment; `encode` changes nothing, `remember` does once the line is written. */
export class RecentRecords {
  /** Records stating a trace among the last BACK leaves, oldest first. */
  private readonly traces = new Map<string, TraceMark>();

  constructor(private readonly startMs: number) {}

  /**
   * The members of an occurrence at `seq` after its `"f":F` (each `,"name":value`), and what to
   * remember of it. `names` are its flow's attribute names (joined), `defined` its flow's
   * attributes. Undefined for a record whose time is no date (written whole).
   */
  encode(seq: number, record: FlowRecord, names: string, defined: Attributes | undefined): { text: string; note: RecentNote } | undefined {
    const time = new Date(record.time).getTime();
    if (!Number.isSafeInteger(time)) return undefined;
    const { traceId, spanId } = record;
    const found = traceId === undefined ? undefined : this.traces.get(traceId);
    const mark = found !== undefined && seq - found.seq < BACK ? found : undefined;
    const since = time - (mark?.time ?? this.startMs);
    let text = since === 0 ? '' : `,"t":${since}`;
    if (record.bytes !== undefined) text += `,"bytes":${JSON.stringify(record.bytes)}`;
    if (record.contentDigest !== undefined) text += `,"contentDigest":${JSON.stringify(record.contentDigest)}`;
    if (record.user !== undefined) text += `,"user":${JSON.stringify(record.user)}`;
    if (mark !== undefined) text += `,"tr":${mark.seq - seq}`;
    else if (traceId !== undefined)
      text += TRACE_HEX.test(traceId)
        ? `,"tr":"${Buffer.from(traceId, 'hex').toString('base64url')}"`
        : `,"traceId":${JSON.stringify(traceId)}`;
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
    return { text, note: { seq, time, traceId, statesTrace: mark === undefined, pairs: written } };
  }

  /** After a record (whole or occurrence) is written at `note.seq`. */
  remember(note: RecentNote): void {
    const { traceId, seq } = note;
    if (traceId === undefined) return;
    if (note.statesTrace) {
      // A new mark: the earlier one fell out of reach (or there was none).
      this.traces.delete(traceId);
      this.traces.set(traceId, { seq, time: note.time, ...(note.pairs === undefined ? {} : { pairs: { seq, ...note.pairs } }) });
      for (const [trace, mark] of this.traces) {
        if (seq - mark.seq < BACK) break;
        this.traces.delete(trace);
      }
    } else if (note.pairs !== undefined) {
      const mark = this.traces.get(traceId);
      if (mark !== undefined) mark.pairs = { seq, ...note.pairs };
    }
  }
}

/** The time and trace of a whole record, for the occurrences after it. */
export function wholeNote(seq: number, record: FlowRecord): RecentNote {
  return { seq, time: new Date(record.time).getTime(), traceId: record.traceId, statesTrace: true };
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
  time: number;
  /** The trace the record states (a record naming another's trace is not one to name). */
  traceId: string | undefined;
  names: readonly string[] | undefined;
  pairs: readonly Value[] | undefined;
}

const OCCURRENCE_MEMBERS = new Set(['seq', 'f', 't', 'bytes', 'contentDigest', 'user', 'tr', 'sp', 'traceId', 'spanId', 'a', 'h']);

/** The reader's side: one per segment, fed every record line in order. */
export class RecentResolver {
  private readonly slots: (Slot | undefined)[] = new Array<Slot | undefined>(BACK);

  /** `startMs`: the log's start (`logStart` of the header's origin); undefined when it has none. */
  constructor(private readonly startMs: number | undefined) {}

  /** Takes in a whole record (parsed); throws when its time is not one. */
  whole(seq: number, parsed: Record<string, unknown>): void {
    const time = typeof parsed.time === 'string' ? Date.parse(parsed.time) : NaN;
    if (!Number.isSafeInteger(time)) throw new DefinitionError('record without a valid time');
    const traceId = typeof parsed.traceId === 'string' ? parsed.traceId : undefined;
    this.slots[seq % BACK] = { seq, time, traceId, names: undefined, pairs: undefined };
  }

  /**
   * An occurrence (parsed) as format 4 states one: time as ISO text, ids in hex and the differing
   * attributes as an object. `names` are its flow's attribute names (undefined: no such flow, or
   * one without attributes). Throws a DefinitionError on what does not resolve.
   */
  expand(seq: number, parsed: Record<string, unknown>, names: readonly string[] | undefined): Record<string, unknown> {
    for (const name in parsed)
      if (!OCCURRENCE_MEMBERS.has(name)) throw new DefinitionError(`record names flow ${String(parsed.f)} and also states "${name}"`);
    const { t = 0, tr, sp, a } = parsed;
    if (!Number.isSafeInteger(t)) throw new DefinitionError('occurrence with a malformed time');
    let traceId = parsed.traceId;
    let stated: string | undefined;
    let base = this.startMs;
    if (tr !== undefined) {
      if (traceId !== undefined) throw new DefinitionError('occurrence states its trace twice');
      if (typeof tr === 'string' && TRACE_B64.test(tr)) traceId = stated = Buffer.from(tr, 'base64url').toString('hex');
      else {
        const earlier = this.back(seq, tr);
        if (earlier.traceId === undefined) throw new DefinitionError('occurrence repeats the trace of a record that states none');
        traceId = earlier.traceId;
        base = earlier.time;
      }
    } else if (typeof traceId === 'string') stated = traceId;
    if (base === undefined) throw new DefinitionError('occurrence timed from the start of a log whose origin states none');
    const time = base + (t as number);
    const expanded: Record<string, unknown> = { seq, flow: parsed.f, time: new Date(time).toISOString() };
    for (const name of ['bytes', 'contentDigest', 'user'] as const) if (parsed[name] !== undefined) expanded[name] = parsed[name];
    let spanId = parsed.spanId;
    if (sp !== undefined) {
      if (spanId !== undefined || typeof sp !== 'string' || !SPAN_B64.test(sp))
        throw new DefinitionError('occurrence with a malformed span id');
      spanId = Buffer.from(sp, 'base64url').toString('hex');
    }
    if (traceId !== undefined) expanded.traceId = traceId;
    if (spanId !== undefined) expanded.spanId = spanId;
    let pairs: readonly Value[] | undefined;
    let statedPairs: readonly Value[] | undefined;
    if (a !== undefined) {
      if (Array.isArray(a)) pairs = statedPairs = a as Value[];
      else {
        const earlier = this.back(seq, a);
        if (earlier.pairs === undefined || !sameNames(earlier.names, names))
          throw new DefinitionError('occurrence repeats the attributes of a record of a flow with other attributes');
        pairs = earlier.pairs;
      }
      expanded.attributes = attributesOf(pairs, names);
    }
    this.slots[seq % BACK] = { seq, time, traceId: stated, names, pairs: statedPairs };
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
