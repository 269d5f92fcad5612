// Flows in the journal (format 4, short occurrences of format 5): a flow that repeats in a segment
// is defined once, at its second occurrence, and every occurrence writes only its own fields, a
// trace or attribute values repeated from a record just before by reference; every reader
// resolves an occurrence to the record it stands for; verify checks flow definitions and the
// records naming them; a segment reads on its own; format-3 and format-4 journals of earlier
// releases still verify and read to the same records as format 5 for the same flows.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { forEachSegmentRecord } from '../../src/journal/decode.js';
import type { JournalRecord } from '../../src/journal/format.js';
import { verifyJournal } from '../../src/journal/verify.js';
import { runCli as cli } from '../helpers/spawn.js';
import { cleanupTempDirs } from '../helpers/tmp.js';
import {
  appState,
  edit,
  expectRecordOf,
  ed25519,
  failure,
  fixtures,
  fixtureState,
  flowEvent,
  journalOf,
  lineOfSeq,
  readLines,
  readRecords,
  rehash,
  requestFlows,
  segmentFiles,
  withoutCheckpoints,
} from './helpers.js';

afterAll(cleanupTempDirs);

const records = readRecords;

const kind = (line: string): string =>
  line.includes('"define":"flow"')
    ? 'flow'
    : line.includes('"define":"sources"')
      ? 'set'
      : /^\{"seq":\d+,"f":/.test(line)
        ? 'occurrence'
        : 'other';

describe('flow records', () => {
  it('a repeated flow is defined once; its occurrences hold only their own fields and read back as appended', () => {
    const n = 50;
    const events = Array.from({ length: n }, (_, i) => requestFlows(i + 1)).flat();
    const { dir, files } = journalOf(events);
    expect(files).toHaveLength(1);
    const leaves = readLines(files[0]).filter((line) => line.startsWith('{"seq":'));
    const counts = leaves.reduce<Record<string, number>>((acc, line) => ({ ...acc, [kind(line)]: (acc[kind(line)] ?? 0) + 1 }), {});
    // One set, two flows (read, write) defined at their second occurrence, both first occurrences whole.
    expect(counts).toEqual({ set: 1, flow: 2, other: 2, occurrence: 2 * n - 2 });
    const occurrences = leaves.filter((line) => kind(line) === 'occurrence');
    for (const line of occurrences) {
      expect(line).not.toMatch(/"(op|resource|sources|labels|policy|decision)":/);
      expect(Buffer.byteLength(line)).toBeLessThan(150);
    }
    // Only the values that differ from the definition's, by index: the path always, the port two
    // times in three; the response repeats its request's trace and values by reference.
    expect(occurrences.some((line) => /"a":\[3,"\/users\/\d+"\]/.test(line))).toBe(true);
    expect(occurrences.filter((line) => line.includes('"tr":-1,') && line.includes('"a":-1,'))).toHaveLength(n - 2);
    expect(occurrences.every((line) => !line.includes('network.peer.address'))).toBe(true);

    const report = verifyJournal([dir]);
    expect(report.failures).toEqual([]);
    expect(report.records).toBe(2 * n);
    const read = records([dir]);
    expect(read).toHaveLength(2 * n);
    read.forEach((record, i) => expectRecordOf(record, events[i]));
  });

  it('a flow seen once is written whole: work that never repeats writes no flow definition', () => {
    const { dir, files } = journalOf(Array.from({ length: 20 }, (_, i) => flowEvent(i + 1)));
    const leaves = readLines(files[0]).filter((line) => line.startsWith('{"seq":'));
    expect(leaves.map(kind).filter((k) => k === 'flow' || k === 'occurrence')).toEqual([]);
    expect(verifyJournal([dir]).failures).toEqual([]);
    expect(records([dir])).toHaveLength(20);
  });

  it('after rotation a flow is defined again in the new segment, which reads on its own', () => {
    const events = Array.from({ length: 60 }, (_, i) => requestFlows(i + 1)).flat();
    const { dir, files } = journalOf(events, { segmentMaxBytes: 6000 });
    expect(files.length).toBeGreaterThan(2);
    expect(verifyJournal([dir]).failures).toEqual([]);
    // A full segment after the first: its flows were defined in earlier segments too.
    const last = files[files.length - 2];
    const alone: JournalRecord[] = [];
    forEachSegmentRecord(last, 0, (record) => void alone.push(record));
    expect(alone.length).toBeGreaterThan(2);
    for (const record of alone) expectRecordOf(record, events[record.seq - 1 - definitionsBefore(files, record.seq)]);
    expect(readLines(last).some((line) => kind(line) === 'flow')).toBe(true);
  });
});

/** Definition leaves (sets and flows) with a seq below `seq` in the whole log. */
function definitionsBefore(files: string[], seq: number): number {
  return files
    .flatMap(readLines)
    .filter((line) => (kind(line) === 'flow' || kind(line) === 'set') && Number(/^\{"seq":(\d+)/.exec(line)![1]) < seq).length;
}

/** Three requests' flows: set at seq 1, whole read 2, whole write 3, then read definition 4, occurrence 5, write definition 6, occurrence 7, occurrences 8 and 9. */
function smallJournal(signingKey?: string): { dir: string; file: string } {
  const { dir, files } = journalOf([1, 2, 3].flatMap(requestFlows), { checkpointEvery: 4 }, signingKey);
  return { dir, file: files[0] };
}

describe('verify: tampered flow definitions and occurrences', () => {
  it('the clean log verifies, and its definitions are where the test expects them', () => {
    const { dir, file } = smallJournal();
    expect(verifyJournal([dir]).failures).toEqual([]);
    const lines = readLines(file);
    expect(JSON.parse(lines[lineOfSeq(lines, 4)])).toMatchObject({ define: 'flow', op: 'read', sources: 1 });
    expect(JSON.parse(lines[lineOfSeq(lines, 5)])).toMatchObject({ f: 4, user: 'user-2' });
    expect(JSON.parse(lines[lineOfSeq(lines, 9)])).toMatchObject({ f: 6, user: 'user-3', bytes: 212 });
  });

  it('an altered definition fails at its seq; re-hashed, at the checkpoint over it, and a signed log cannot be re-signed', () => {
    const deny = (line: string): string => line.replace('"decision":"allow"', '"decision":"deny"');
    const first = smallJournal();
    edit(first.file, (lines) => (lines[lineOfSeq(lines, 6)] = deny(lines[lineOfSeq(lines, 6)])));
    expect(failure(verifyJournal([first.dir]))).toMatchObject({ seq: 6, message: expect.stringMatching(/hash/) });

    const key = ed25519();
    const second = smallJournal(key.privatePem);
    edit(second.file, (lines) => (lines[lineOfSeq(lines, 6)] = rehash(deny(lines[lineOfSeq(lines, 6)]))));
    expect(failure(verifyJournal([second.dir]))).toMatchObject({ message: expect.stringMatching(/root does not match/) });
    // Every occurrence of the flow now reads as a denial: which is exactly what the root check refuses.
    expect(records([second.dir]).filter((record) => record.op === 'write' && record.decision === 'deny')).toHaveLength(2);
  });

  const tampered = (seq: number, change: (line: string) => string, message: RegExp): void => {
    const { dir, file } = smallJournal();
    edit(file, (lines) => {
      lines[lineOfSeq(lines, seq)] = rehash(change(lines[lineOfSeq(lines, seq)]));
      withoutCheckpoints(lines);
    });
    expect(failure(verifyJournal([dir]))).toMatchObject({ file: path.basename(file), seq, message: expect.stringMatching(message) });
  };

  it('an occurrence naming a flow not defined before it fails at its seq', () => {
    tampered(5, (line) => line.replace('"f":4', '"f":6'), /names flow 6, which is not defined before it/);
    tampered(5, (line) => line.replace('"f":4', '"f":2'), /names flow 2, which is not defined before it/);
  });

  it("an occurrence stating one of its flow's fields, or an attribute the flow does not have, fails at its seq", () => {
    tampered(7, (line) => line.replace('"f":6,', '"f":6,"decision":"deny",'), /names flow 6 and also states "decision"/);
    tampered(8, (line) => line.replace('"a":[', '"a":[4,"http://x/",'), /attributes the flow does not/);
  });

  it('an occurrence repeating the trace or values of a record that is not there, or has none, fails at its seq', () => {
    // 6 is the write flow's definition, 7 the occurrence before it (no values of its own: its flow's).
    tampered(9, (line) => line.replace('"tr":-1', '"tr":-3'), /refers to -3, no record/);
    tampered(9, (line) => line.replace('"a":-1', '"a":-2'), /repeats the attributes of a record of a flow with other attributes/);
    tampered(9, (line) => line.replace('"tr":-1', '"tr":-2000'), /refers to -2000, no record/);
    tampered(5, (line) => line.replace(/"t":-?\d+/, '"t":"soon"'), /malformed time/);
  });

  it('a flow definition naming no set defined before it fails at its seq', () => {
    tampered(4, (line) => line.replace('"sources":1', '"sources":3'), /names no source set defined before it/);
    tampered(4, (line) => line.replace('"define":"flow",', '"define":"flow","traceId":"00",'), /states "traceId", which is not a flow's/);
  });
});

// test/journal/fixtures/format-N: fixtures/flows-app.cjs run under the format-N writer in
// /tmp/provenant-formatN with its provenant.yaml (node n1, service reports, repeatWindowMs 0).
// `smaller`: what today's journal of the same app weighs at most, as a share of that one.
describe.each([
  { format: 3, smaller: 0.6 },
  { format: 4, smaller: 0.8 },
])('format $format journals (written by an earlier release)', ({ format, smaller }) => {
  const FIXTURE_WORK = `/tmp/provenant-format${format}`;
  const fixture = path.join(fixtures, `format-${format}`);

  const todayState = (): Promise<{ state: string; work: string }> =>
    appState('flows-app.cjs', fixture, { 'data/record.json': readFileSync(path.join(fixture, 'record.json'), 'utf8') });

  /** Output with the work dir, times, ids, hashes, policy digests, ports, pids and seqs made comparable. */
  function comparable(text: string, work: string): unknown {
    return JSON.parse(
      text
        .split(work)
        .join('<work>')
        .replace(/"(time|traceId|spanId|hash|policy)": ?"[^"]*"/g, '"$1":"…"')
        .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:<port>')
        .replace(/"(pid|seq|network\.peer\.port|server\.port)": ?\d+/g, '"$1":0'),
    );
  }

  it('verify and query read both; the same app writes the same records in fewer bytes', async () => {
    const old = fixtureState(fixture);
    const { state: today, work } = await todayState();
    for (const state of [old, today]) {
      const verify = await cli('verify', '--state', state, '--json');
      expect(verify.code, verify.stdout).toBe(0);
    }
    const lines = segmentFiles(today).flatMap(readLines);
    expect(lines.some((line) => kind(line) === 'flow')).toBe(true);
    expect(lines.some((line) => kind(line) === 'occurrence')).toBe(true);
    const queryOld = await cli('query', '--state', old, '--json', '--limit', '100');
    const queryToday = await cli('query', '--state', today, '--json', '--limit', '100');
    expect(queryToday.code, queryToday.stderr).toBe(0);
    expect((JSON.parse(queryToday.stdout) as { total: number }).total).toBe(18);
    expect(comparable(queryToday.stdout, work)).toEqual(comparable(queryOld.stdout, FIXTURE_WORK));
    const size = (state: string): number => segmentFiles(state).reduce((sum, file) => sum + statSync(file).size, 0);
    expect(size(today) / size(old)).toBeLessThan(smaller);
  });
});
