// Format 5's short occurrences: an independent reading of the lines by the rules README "The
// journal" states gives back every appended record, each from its flow's definition and set, at
// most the two records it names and the log's start in the signed origin; readers starting in
// the middle of a segment resolve the same records; a trace or values repeated from further back
// than the window are stated again; ids that are not hex are kept as they are.
import { afterAll, describe, expect, it } from 'vitest';
import type { FlowRecord } from '../../src/engine/flow-record.js';
import { decoderBefore, findRecord } from '../../src/journal/decode.js';
import type { SegmentHeader } from '../../src/journal/format.js';
import { verifyJournal } from '../../src/journal/verify.js';
import { cleanupTempDirs } from '../helpers/tmp.js';
import { expectRecordOf, flowEvent, journalOf, lineOfSeq, readLines, readRecords, requestFlows } from './helpers.js';

afterAll(cleanupTempDirs);

type Line = Record<string, unknown>;

/** Requests two at a time, as concurrent ones are journaled: both reads, then both responses. */
function interleaved(requests: number): FlowRecord[] {
  const events: FlowRecord[] = [];
  for (let i = 1; i <= requests; i += 2) {
    const [readA, writeA] = requestFlows(i);
    const [readB, writeB] = requestFlows(i + 1);
    events.push(readA, readB, writeA, writeB);
  }
  return events;
}

const hexOf = (base64url: string): string => Buffer.from(base64url, 'base64url').toString('hex');

/**
 * The records of one segment read by the README's rules alone (no code of provenant): a whole
 * record is itself; an occurrence takes its flow's definition, its set's sources, the trace and
 * time base of the record `tr` names (else the log's start) and the values `a` or the occurrence
 * `a` names give by index into the flow's attribute names.
 */
function independentReading(file: string): Record<string, unknown>[] {
  const lines = readLines(file);
  const header = JSON.parse(lines[0]) as { log: string };
  const checkpoint = JSON.parse(lines.find((line) => line.startsWith('{"type":"checkpoint"'))!) as { note: string };
  const origin = checkpoint.note.split('\n')[0];
  expect(origin).toBe(header.log);
  const start = Number(/-(\d+)-[0-9a-f]+$/.exec(origin)![1]);
  const bySeq = new Map<number, Line>();
  const records: Record<string, unknown>[] = [];
  for (const text of lines.filter((line) => line.startsWith('{"seq":'))) {
    const { h: _check, ...line } = JSON.parse(text) as Line & { h: string };
    const seq = line.seq as number;
    bySeq.set(seq, line);
    if (line.define !== undefined) continue;
    const setOf = (ref: unknown): unknown => (typeof ref === 'number' ? bySeq.get(ref)!.add : ref);
    if (line.f === undefined) {
      records.push({ ...line, sources: setOf(line.sources) });
      continue;
    }
    const { seq: _seq, define: _define, attributes: defined, ...flow } = bySeq.get(line.f as number)!;
    // A record that states its trace is timed from the log's start (or is whole, with its time).
    const timeOf = (record: Line): number =>
      typeof record.time === 'string' ? Date.parse(record.time) : start + ((record.t as number) ?? 0);
    const named = typeof line.tr === 'number' ? bySeq.get(seq + line.tr)! : undefined;
    const traceId = named === undefined ? hexOf(line.tr as string) : ((named.traceId as string) ?? hexOf(named.tr as string));
    const time = (named === undefined ? start : timeOf(named)) + ((line.t as number) ?? 0);
    const pairs = (typeof line.a === 'number' ? bySeq.get(seq + line.a)!.a : line.a) as unknown[] | undefined;
    const attributes = { ...(defined as Record<string, unknown>) };
    const names = Object.keys(attributes);
    for (let i = 0; pairs !== undefined && i < pairs.length; i += 2) attributes[names[pairs[i] as number]] = pairs[i + 1];
    records.push({
      ...flow,
      seq,
      time: new Date(time).toISOString(),
      sources: setOf(flow.sources),
      ...(line.bytes === undefined ? {} : { bytes: line.bytes }),
      ...(line.user === undefined ? {} : { user: line.user }),
      traceId,
      spanId: hexOf(line.sp as string),
      attributes,
    });
  }
  return records;
}

describe('format 5 occurrences', () => {
  it('read independently by the documented rules, every record is the one appended', () => {
    const events = interleaved(40);
    const { dir, files } = journalOf(events);
    expect(files).toHaveLength(1);
    expect(verifyJournal([dir]).failures).toEqual([]);
    const lines = readLines(files[0]);
    // The responses repeat their request's trace and values by reference, timed from it.
    expect(lines.filter((line) => /"tr":-2,.*"a":-2,/.test(line))).toHaveLength(38);
    const read = independentReading(files[0]);
    expect(read).toHaveLength(events.length);
    read.forEach((record, i) => {
      const { time, ...event } = events[i];
      const stated = Object.fromEntries(Object.entries(event).filter(([, value]) => value !== undefined));
      expect(record).toEqual({ ...stated, seq: record.seq, time: new Date(time).toISOString() });
    });
  });

  it('a reader starting at any record of the segment resolves it as one reading from the start', () => {
    const { dir, files } = journalOf(interleaved(20));
    const all = readRecords([dir]);
    const lines = readLines(files[0]);
    const header = JSON.parse(lines[0]) as SegmentHeader;
    for (const record of all) {
      expect(findRecord(files, record.seq)).toEqual(record);
      // As the OTLP log export resumes at a cursor: the lines before it taken in, then the line.
      expect(decoderBefore(files[0], header, record.seq).record(lines[lineOfSeq(lines, record.seq)])).toEqual(record);
    }
  });

  it('a trace and values repeated from further back than 1,023 leaves are stated again', () => {
    const requests = Array.from({ length: 600 }, (_, i) => requestFlows(i + 2)).flat();
    const [read, write] = requestFlows(1);
    const events = [read, ...requests, write];
    const { dir, files } = journalOf(events);
    expect(verifyJournal([dir]).failures).toEqual([]);
    const last = readLines(files[0]).findLast((line) => line.startsWith('{"seq":'))!;
    expect(last).toMatch(/"tr":"[A-Za-z0-9_-]{22}"/);
    expect(last).toMatch(/"a":\[/);
    const records = readRecords([dir]);
    expectRecordOf(records[records.length - 1], write);
  });

  it('ids that are not lowercase hex of the usual length are kept as stated', () => {
    const events = [1, 2, 3].map((i) => flowEvent(i, { resource: 'file://n1/srv/out/x.json', traceId: `Trace-${i}`, spanId: 'ABC' }));
    const { dir, files } = journalOf(events);
    expect(verifyJournal([dir]).failures).toEqual([]);
    expect(readLines(files[0]).some((line) => line.includes('"f":') && line.includes('"traceId":"Trace-3","spanId":"ABC"'))).toBe(true);
    readRecords([dir]).forEach((record, i) => expectRecordOf(record, events[i]));
  });
});
