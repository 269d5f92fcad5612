// Source sets in the journal (format 3): a record's line stays small whatever its number of
// sources, a context growing one source at a time writes O(N) bytes, definitions are leaves that
// verify checks (altered, removed, reordered or referenced from elsewhere fails), each segment
// reads on its own, and format-2 journals written by the previous release still verify and read
// to the same lineage and OpenLineage inputs and outputs as format 3 for the same flows.
import { statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { forEachRecord, forEachSegmentRecord } from '../../src/journal/decode.js';
import type { JournalRecord } from '../../src/journal/format.js';
import { verifyJournal } from '../../src/journal/verify.js';
import { openJournal } from '../../src/journal/writer.js';
import { RunCollector } from '../../src/openlineage/events.js';
import { fromRecord, EXPORTED_SOURCES } from '../../src/export/log-records.js';
import { sourcesDigest } from '../../src/provenance/sources-digest.js';
import { runCli as cli } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import {
  appState,
  edit,
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

const source = (i: number): string => `file://n1/batch/in/${String(i).padStart(6, '0')}.json`;

/** A log whose records' sources grow one at a time: record i derives from sources 1..i. */
function growingJournal(n: number, segmentMaxBytes = 64 << 20): { dir: string; files: string[] } {
  const dir = tempDir('provenant-sets-');
  const writer = openJournal({
    stateDir: dir,
    config: journalConfig({ segmentMaxBytes, checkpointEvery: 1000 }),
    service: 'batch',
    node: 'n1',
    pid: 7,
  });
  const sources: string[] = [];
  for (let i = 1; i <= n; i++) {
    sources.push(source(i));
    writer.append(flowEvent(i, { resource: `file://n1/batch/out/${i}.json`, sources: [...sources] }));
  }
  writer.close();
  expect(writer.lostRecords).toBe(0);
  return { dir, files: segmentFiles(dir) };
}

const records = readRecords;

describe('record size', () => {
  it('is bounded whatever the number of sources, and a growing context writes O(N) bytes', () => {
    const n = 2000;
    const { dir, files } = growingJournal(n);
    const lines = files.flatMap(readLines);
    const recordLines = lines.filter((line) => line.includes('"op":'));
    const definitions = lines.filter((line) => line.includes('"define":"sources"'));
    expect(recordLines).toHaveLength(n);
    expect(definitions).toHaveLength(n);
    // The same record bytes for 1 source and for 2,000: only the seq numbers and the file name grow (a few digits).
    const sizes = recordLines.map((line) => Buffer.byteLength(line));
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(12);
    expect(Math.max(...sizes)).toBeLessThan(500);
    // Each definition names its base and the one source it adds.
    expect(Math.max(...definitions.map((line) => Buffer.byteLength(line)))).toBeLessThan(300);
    expect(JSON.parse(definitions[n - 1])).toMatchObject({ base: expect.any(Number), add: [source(n)], count: n });
    // Inline lists would take the sum of 1..N sources (~80 MB here); this is linear in N.
    const bytes = files.reduce((sum, file) => sum + statSync(file).size, 0);
    expect(bytes).toBeLessThan(n * 800);

    const report = verifyJournal([dir]);
    expect(report.failures).toEqual([]);
    expect(report.records).toBe(n);
    const read = records([dir]);
    expect(read).toHaveLength(n);
    for (const i of [1, 2, 1000, n]) expect(read[i - 1].sources).toEqual(Array.from({ length: i }, (_, k) => source(k + 1)));
    expect(read[0]).toMatchObject({ service: 'batch', node: 'n1', pid: 7 });
  });

  it('a segment reads on its own: after rotation a set is defined again, in full, in the new segment', () => {
    const { dir, files } = growingJournal(60, 6000);
    expect(files.length).toBeGreaterThan(2);
    expect(verifyJournal([dir]).failures).toEqual([]);
    const last = files[files.length - 1];
    const alone: JournalRecord[] = [];
    forEachSegmentRecord(last, 0, (record) => void alone.push(record));
    expect(alone.length).toBeGreaterThan(0);
    for (const record of alone) {
      const i = Number(/\/(\d+)\.json$/.exec(record.resource)![1]);
      expect(record.sources).toEqual(Array.from({ length: i }, (_, k) => source(k + 1)));
    }
    // Its first definition has no base: nothing refers into the segments before it.
    const first = readLines(last).find((line) => line.includes('"define":"sources"'))!;
    expect(JSON.parse(first)).not.toHaveProperty('base');
  });

  it('the OTLP log export sends at most 100 sources, with the count and the digest the journal definition states', () => {
    const { dir, files } = growingJournal(150);
    const header = JSON.parse(readLines(files[0])[0]) as Parameters<typeof fromRecord>[0];
    const read = records([dir]);
    const small = fromRecord(header, read[EXPORTED_SOURCES - 1]);
    expect(small.attributes['provenant.sources']).toEqual(read[EXPORTED_SOURCES - 1].sources);
    expect(small.attributes).not.toHaveProperty('provenant.sources.digest');
    const large = fromRecord(header, read[149]);
    expect(large.attributes['provenant.sources']).toEqual(read[149].sources.slice(0, EXPORTED_SOURCES));
    expect(large.attributes['provenant.sources.count']).toBe(150);
    const digest = sourcesDigest(read[149].sources);
    expect(large.attributes['provenant.sources.digest']).toBe(digest);
    // What a receiver checks the digest against: the definition of the record's set.
    const definition = readLines(files[0]).find((line) => line.includes(`"digest":"${digest}"`));
    expect(JSON.parse(definition!)).toMatchObject({ define: 'sources', count: 150 });
  });
});

/** Three records with sets {a}, {a,b}, {a,b,c}: definitions at seq 1, 3 and 5, records at 2, 4 and 6. */
function smallJournal(): { dir: string; file: string } {
  const dir = tempDir('provenant-sets-tamper-');
  const writer = openJournal({ stateDir: dir, config: journalConfig({ checkpointEvery: 2 }), service: 'batch', node: 'n1', pid: 7 });
  for (let i = 1; i <= 3; i++) writer.append(flowEvent(i, { sources: Array.from({ length: i }, (_, k) => source(k + 1)) }));
  writer.close();
  return { dir, file: segmentFiles(dir)[0] };
}

describe('verify: tampered source set definitions', () => {
  it('the clean log verifies, and its definitions are where the test expects them', () => {
    const { dir, file } = smallJournal();
    expect(verifyJournal([dir]).failures).toEqual([]);
    const lines = readLines(file);
    expect(JSON.parse(lines[lineOfSeq(lines, 3)])).toMatchObject({ define: 'sources', base: 1, add: [source(2)], count: 2 });
    expect(JSON.parse(lines[lineOfSeq(lines, 6)])).toMatchObject({ op: 'write', sources: 5 });
  });

  it('an altered definition fails at its seq, re-hashed or not', () => {
    const { dir, file } = smallJournal();
    const alter = (line: string): string => line.replace(source(2), source(9));
    edit(file, (lines) => (lines[lineOfSeq(lines, 3)] = alter(lines[lineOfSeq(lines, 3)])));
    expect(failure(verifyJournal([dir]))).toMatchObject({ file: path.basename(file), seq: 3, message: expect.stringMatching(/hash/) });

    const second = smallJournal();
    edit(second.file, (lines) => (lines[lineOfSeq(lines, 3)] = rehash(alter(lines[lineOfSeq(lines, 3)]))));
    expect(failure(verifyJournal([second.dir]))).toMatchObject({ seq: 3, message: expect.stringMatching(/count and digest/) });

    // Even with the checkpoints removed (unsigned: records are then hash-checked only), the set no longer matches its digest.
    const third = smallJournal();
    edit(third.file, (lines) => {
      lines[lineOfSeq(lines, 3)] = rehash(alter(lines[lineOfSeq(lines, 3)]));
      withoutCheckpoints(lines);
    });
    expect(failure(verifyJournal([third.dir]))).toMatchObject({ seq: 3, message: expect.stringMatching(/count and digest/) });
  });

  it('a removed definition fails, renumbered or not', () => {
    const { dir, file } = smallJournal();
    edit(file, (lines) => lines.splice(lineOfSeq(lines, 3), 1));
    expect(failure(verifyJournal([dir]))).toMatchObject({ seq: 3, message: expect.stringMatching(/expected seq 3, found 4/) });

    // Renumbered and re-hashed, checkpoints gone: the records now name sets that are not (or no longer) defined before them.
    const second = smallJournal();
    edit(second.file, (lines) => {
      lines.splice(lineOfSeq(lines, 3), 1);
      withoutCheckpoints(lines);
      for (let i = 1; i < lines.length; i++) {
        const n = /^\{"seq":(\d+),/.exec(lines[i]);
        if (n && Number(n[1]) > 3) lines[i] = rehash(lines[i].replace(/^\{"seq":\d+,/, `{"seq":${Number(n[1]) - 1},`));
      }
    });
    expect(failure(verifyJournal([second.dir]))).toMatchObject({
      seq: 3,
      message: expect.stringMatching(/names source set 3, which is not defined before it/),
    });
  });

  it('a reordered definition fails, renumbered or not', () => {
    const { dir, file } = smallJournal();
    edit(file, (lines) => {
      const at = lineOfSeq(lines, 3);
      [lines[at], lines[at + 1]] = [lines[at + 1], lines[at]];
    });
    expect(failure(verifyJournal([dir]))).toMatchObject({ seq: 3, message: expect.stringMatching(/expected seq 3, found 4/) });

    const second = smallJournal();
    edit(second.file, (lines) => {
      withoutCheckpoints(lines);
      const at = lineOfSeq(lines, 3);
      const definition = lines[at].replace('{"seq":3,', '{"seq":4,');
      const record = lines[at + 1].replace('{"seq":4,', '{"seq":3,');
      lines[at] = rehash(record);
      lines[at + 1] = rehash(definition);
    });
    expect(failure(verifyJournal([second.dir]))).toMatchObject({
      seq: 3,
      message: expect.stringMatching(/names source set 3, which is not defined before it/),
    });
  });

  it('a record naming a set of another segment fails: each segment defines what it uses', () => {
    const { dir, files } = growingJournal(60, 6000);
    const firstDefinition = readLines(files[0]).find((line) => line.includes('"define":"sources"'))!;
    const foreign = (JSON.parse(firstDefinition) as { seq: number }).seq;
    let seq = 0;
    edit(files[1], (lines) => {
      const at = lines.findIndex((line) => line.includes('"op":'));
      seq = (JSON.parse(lines[at]) as { seq: number }).seq;
      lines[at] = rehash(lines[at].replace(/"sources":\d+/, `"sources":${foreign}`));
    });
    expect(failure(verifyJournal([dir]))).toMatchObject({
      file: path.basename(files[1]),
      seq,
      message: expect.stringMatching(new RegExp(`names source set ${foreign}, which is not defined before it in this segment`)),
    });
  });
});

describe('format 2 journals (written by the previous release)', () => {
  // test/journal/fixtures/format-2: fixtures/sources-app.cjs run under the format-2 writer in
  // /tmp/provenant-format2 with its provenant.yaml (node n1, service reports).
  const FIXTURE_WORK = '/tmp/provenant-format2';
  const format2 = path.join(fixtures, 'format-2');

  const format2State = (): string => fixtureState(format2);

  /** The same app under today's preload, in a fresh work dir. */
  const format3State = (): Promise<{ state: string; work: string }> =>
    appState('sources-app.cjs', format2, { 'in/a.csv': 'a,1\n', 'in/b.csv': 'b,1\n', 'in/c.csv': 'c,1\n', 'out/.keep': '' });

  /** Output text with the work dir, times, trace and run ids, hashes, policy digests (the policy names the work dir), pids and log ids made comparable. */
  function comparable(text: string, work: string): unknown {
    return JSON.parse(
      text
        .split(work)
        .join('<work>')
        .replace(/"(time|eventTime|traceId|spanId|runId|started|hash|policy)": ?"[^"]*"/g, '"$1":"…"')
        .replace(/reports-\d+-\d+-[0-9a-f]{6}/g, 'reports-<log>')
        .replace(/reports\/\d+-\d+-[0-9a-f]{6}/g, 'reports/<log>')
        .replace(/"(pid|seq)": ?\d+/g, '"$1":0'),
    );
  }

  it('verify and query read them; the CLI reads both formats side by side', async () => {
    const state = format2State();
    const verify = await cli('verify', '--state', state, '--json');
    expect(verify.code, verify.stdout).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, records: 6 });
    const raw = readLines(segmentFiles(state)[0])
      .filter((line) => line.startsWith('{"seq":'))
      .map((line) => JSON.parse(line) as JournalRecord);
    // Format 2 reads as written.
    expect(records([state])).toEqual(raw);
    const { state: state3 } = await format3State();
    const both = await cli('query', '--state', state, '--state', state3, '--json');
    expect(both.code, both.stderr).toBe(0);
    const listed = (JSON.parse(both.stdout) as { records: JournalRecord[] }).records;
    expect(listed).toHaveLength(12);
    expect(listed.every((record) => Array.isArray(record.sources) && record.service === 'reports' && record.node === 'n1')).toBe(true);
  });

  it('lineage, query and OpenLineage give the same sources for the same multi-source flows as format 3', async () => {
    const state2 = format2State();
    const { state: state3, work } = await format3State();
    expect(verifyJournal([state3]).failures).toEqual([]);
    expect(readLines(segmentFiles(state3)[0]).some((line) => line.includes('"define":"sources"'))).toBe(true);

    const summary2 = `file://n1${FIXTURE_WORK}/out/summary.txt`;
    const summary3 = `file://n1${work}/out/summary.txt`;
    const lineage2 = await cli('lineage', summary2, '--upstream', '--json', '--state', state2);
    const lineage3 = await cli('lineage', summary3, '--upstream', '--json', '--state', state3);
    expect(lineage3.code, lineage3.stderr).toBe(0);
    const graph = comparable(lineage3.stdout, work) as { nodes: unknown[]; edges: { from: string }[] };
    expect(graph.edges.map((edge) => edge.from).sort()).toEqual(
      ['a.csv', 'b.csv', 'c.csv', 'a.csv', 'b.csv', 'c.csv', 'report.txt']
        .map((name) => `file://n1<work>/${name.endsWith('.csv') ? 'in' : 'out'}/${name}`)
        .sort(),
    );
    expect(graph).toEqual(comparable(lineage2.stdout, FIXTURE_WORK));

    const query2 = await cli('query', '--state', state2, '--json');
    const query3 = await cli('query', '--state', state3, '--json');
    expect(query3.code, query3.stderr).toBe(0);
    expect(comparable(query3.stdout, work)).toEqual(comparable(query2.stdout, FIXTURE_WORK));

    const events = (state: string): string => {
      const runs = new RunCollector({ namespace: 'provenant', producer: 'test' });
      forEachRecord([state], (record, segment) => runs.add({ record, log: segment.name.replace(/-\d+\.jsonl$/, '') }));
      return JSON.stringify(runs.events());
    };
    const events3 = comparable(events(state3), work) as { outputs: { name: string }[] }[];
    expect(events3.flatMap((event) => event.outputs.map((output) => output.name))).toContain(`<work>/out/summary.txt`);
    expect(events3).toEqual(comparable(events(state2), FIXTURE_WORK));
  });
});
