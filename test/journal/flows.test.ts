// Flows in the journal (format 4): a flow that repeats in a segment is defined once, at its second
// occurrence, and every occurrence writes only its own fields; every reader resolves an
// occurrence to the record it stands for; verify checks flow definitions and the records naming
// them; a segment reads on its own; format-3 journals of the previous release still verify and
// read to the same records as format 4 for the same flows.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FLOW_RECORD_FIELDS, type FlowRecord } from '../../src/engine/flow-record.js';
import { forEachSegmentRecord } from '../../src/journal/decode.js';
import type { JournalRecord } from '../../src/journal/format.js';
import { loadSigningKey } from '../../src/journal/keys.js';
import { verifyJournal } from '../../src/journal/verify.js';
import { openJournal } from '../../src/journal/writer.js';
import { runCli as cli } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import {
  appState,
  edit,
  ed25519,
  failure,
  fixtures,
  fixtureState,
  flowEvent,
  journalConfig,
  lineOfSeq,
  readLines,
  readRecords,
  rehash,
  segmentFiles,
  withoutCheckpoints,
} from './helpers.js';

afterAll(cleanupTempDirs);

/** Request i of a server: a read from the caller and the response to it, each with its own ids, user and path. */
function requestFlows(i: number): FlowRecord[] {
  const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');
  const common = {
    resource: 'service://frontend',
    sources: ['service://frontend'],
    labels: { confidentiality: 'internal' as const, integrity: 'high' as const, tags: [], locations: ['eu-west-1'] },
    policy: 'sha256:6a00c513fd6cabf1387068c9a65c9fc0f92f02c05b3f991b48d0eb80033007eb',
    user: `user-${i}`,
    traceId: hex(i, 32),
  };
  const attributes = {
    'network.peer.address': '127.0.0.1',
    'network.peer.port': 40_000 + (i % 3),
    'http.request.method': 'GET',
    'url.path': `/users/${i}`,
  };
  return [
    flowEvent(i, { ...common, op: 'read', decision: undefined, spanId: hex(2 * i, 16), attributes }),
    flowEvent(i, { ...common, op: 'write', spanId: hex(2 * i + 1, 16), bytes: 212, attributes }),
  ];
}

function journalOf(
  events: FlowRecord[],
  overrides: Parameters<typeof journalConfig>[0] = {},
  signingKey?: string,
): { dir: string; files: string[] } {
  const dir = tempDir('provenant-flows-');
  const writer = openJournal({
    stateDir: dir,
    config: journalConfig({ checkpointEvery: 1000, ...overrides }),
    service: 'frontend',
    node: 'n1',
    pid: 9,
    ...(signingKey === undefined ? {} : { signingKey: loadSigningKey(signingKey) }),
  });
  for (const event of events) writer.append(event);
  writer.close();
  expect(writer.lostRecords).toBe(0);
  return { dir, files: segmentFiles(dir) };
}

const records = readRecords;

/** The record a reader must give for `event`: its fields in record order after the envelope. */
function expectRecordOf(record: JournalRecord, event: FlowRecord): void {
  const { seq, time, service, node, pid, hash, ...fields } = record;
  expect({ time, service, node, pid }).toEqual({ time: new Date(event.time).toISOString(), service: 'frontend', node: 'n1', pid: 9 });
  expect(seq).toBeGreaterThan(0);
  expect(hash).toMatch(/^[0-9a-f]{64}$/);
  const { time: _time, ...eventFields } = event;
  expect(fields).toEqual(Object.fromEntries(Object.entries(eventFields).filter(([, value]) => value !== undefined)));
  expect(Object.keys(record)).toEqual([
    'seq',
    'time',
    'service',
    'node',
    'pid',
    ...FLOW_RECORD_FIELDS.filter((field) => event[field] !== undefined),
    'hash',
  ]);
}

const kind = (line: string): string =>
  line.includes('"define":"flow"')
    ? 'flow'
    : line.includes('"define":"sources"')
      ? 'set'
      : /^\{"seq":\d+,"flow":/.test(line)
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
      expect(Buffer.byteLength(line)).toBeLessThan(300);
    }
    // Only the values that differ from the definition's: the path always, the port two times in three.
    expect(occurrences.some((line) => line.includes('"attributes":{"url.path":'))).toBe(true);
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
    expect(JSON.parse(lines[lineOfSeq(lines, 5)])).toMatchObject({ flow: 4, user: 'user-2' });
    expect(JSON.parse(lines[lineOfSeq(lines, 9)])).toMatchObject({ flow: 6, user: 'user-3', bytes: 212 });
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
    tampered(5, (line) => line.replace('"flow":4', '"flow":6'), /names flow 6, which is not defined before it/);
    tampered(5, (line) => line.replace('"flow":4', '"flow":2'), /names flow 2, which is not defined before it/);
  });

  it("an occurrence stating one of its flow's fields, or an attribute the flow does not have, fails at its seq", () => {
    tampered(7, (line) => line.replace('"flow":6,', '"flow":6,"decision":"deny",'), /names flow 6 and also states "decision"/);
    tampered(9, (line) => line.replace('"url.path":', '"url.full":"http://x/","url.path":'), /attributes the flow does not/);
  });

  it('a flow definition naming no set defined before it fails at its seq', () => {
    tampered(4, (line) => line.replace('"sources":1', '"sources":3'), /names no source set defined before it/);
    tampered(4, (line) => line.replace('"define":"flow",', '"define":"flow","traceId":"00",'), /states "traceId", which is not a flow's/);
  });
});

describe('format 3 journals (written by the previous release)', () => {
  // test/journal/fixtures/format-3: fixtures/flows-app.cjs run under the format-3 writer in
  // /tmp/provenant-format3 with its provenant.yaml (node n1, service reports, repeatWindowMs 0).
  const FIXTURE_WORK = '/tmp/provenant-format3';
  const format3 = path.join(fixtures, 'format-3');

  const format3State = (): string => fixtureState(format3);
  const format4State = (): Promise<{ state: string; work: string }> =>
    appState('flows-app.cjs', format3, { 'data/record.json': readFileSync(path.join(format3, 'record.json'), 'utf8') });

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
    const state3 = format3State();
    const { state: state4, work } = await format4State();
    for (const state of [state3, state4]) {
      const verify = await cli('verify', '--state', state, '--json');
      expect(verify.code, verify.stdout).toBe(0);
    }
    const lines4 = segmentFiles(state4).flatMap(readLines);
    expect(lines4.some((line) => kind(line) === 'flow')).toBe(true);
    expect(lines4.some((line) => kind(line) === 'occurrence')).toBe(true);
    const query3 = await cli('query', '--state', state3, '--json', '--limit', '100');
    const query4 = await cli('query', '--state', state4, '--json', '--limit', '100');
    expect(query4.code, query4.stderr).toBe(0);
    expect((JSON.parse(query4.stdout) as { total: number }).total).toBe(18);
    expect(comparable(query4.stdout, work)).toEqual(comparable(query3.stdout, FIXTURE_WORK));
    const size = (state: string): number => segmentFiles(state).reduce((sum, file) => sum + statSync(file).size, 0);
    expect(size(state4)).toBeLessThan(size(state3) * 0.8);
  });
});
