// The writer: record format, batching and sync modes, checkpoints, rotation and failures
// (unwritable dir, full disk) that must never throw or crash.
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { splitRecordLine, type CheckpointLine, type SegmentHeader, type StoredRecord } from '../../src/journal/format.js';
import { leafHash } from '../../src/journal/merkle.js';
import { sourcesDigest } from '../../src/provenance/sources-digest.js';
import { loadSigningKey } from '../../src/journal/keys.js';
import { verifyJournal } from '../../src/journal/verify.js';
import { contentDigest, pseudonymize } from '../../src/journal/digest.js';
import { openJournal, type WrittenCheckpoint } from '../../src/journal/writer.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { ed25519, flowEvent, journalConfig, readLines, segmentFiles } from './helpers.js';

// Lets a test make the next writes fail like a full disk.
const disk = vi.hoisted(() => ({ full: false }));
vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  const writeSync = ((...args: Parameters<typeof actual.writeSync>) => {
    if (disk.full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    return (actual.writeSync as (...a: unknown[]) => number)(...args);
  }) as typeof actual.writeSync;
  return { ...actual, default: { ...actual, writeSync }, writeSync };
});

const warnings: string[] = [];
const logger: DiagLogger = {
  error: () => {},
  warn: (message: string) => void warnings.push(message),
  info: () => {},
  debug: () => {},
  verbose: () => {},
};

beforeEach(() => {
  warnings.length = 0;
  disk.full = false;
  diag.setLogger(logger, DiagLogLevel.WARN);
});
afterEach(() => {
  diag.disable();
  vi.useRealTimers();
});
afterAll(cleanupTempDirs);

const options = (stateDir: string, overrides: Partial<Parameters<typeof openJournal>[0]> = {}) => ({
  stateDir,
  config: journalConfig(),
  service: 'patients api',
  node: 'n1',
  pid: 77,
  ...overrides,
});

describe('journal writer', () => {
  it('writes a header, records with every field and their leaf hash, and a final checkpoint', () => {
    const dir = tempDir();
    const writer = openJournal(options(dir));
    writer.append(
      flowEvent(1, { user: 'hmac:ab', contentDigest: 'sha256:00', bytes: 12, rule: 'r1', decision: 'violation', reason: 'why' }),
    );
    writer.append(flowEvent(2, { op: 'record', action: 'dataset.created', attributes: { rows: 3 } }));
    writer.close();
    const [file] = segmentFiles(dir);
    expect(path.basename(file)).toMatch(/^patients_api-77-\d+-[0-9a-f]{6}-000000\.jsonl$/);
    const lines = readLines(file);
    const header = JSON.parse(lines[0]) as SegmentHeader;
    expect(header).toMatchObject({
      type: 'header',
      version: 5,
      segment: path.basename(file),
      log: expect.stringMatching(/^provenant\/n1\/patients_api\/77-\d+-[0-9a-f]{6}$/),
      service: 'patients api',
      node: 'n1',
      pid: 77,
      index: 0,
      firstSeq: 1,
      afterFailure: false,
      previousLog: null,
      vkey: null,
    });
    // The source set is defined once, as its own leaf, before the first record naming it.
    expect(JSON.parse(lines[1])).toEqual({
      seq: 1,
      define: 'sources',
      add: ['file://n1/srv/data/patients/42.json'],
      count: 1,
      digest: sourcesDigest(['file://n1/srv/data/patients/42.json']),
      h: expect.stringMatching(/^[A-Za-z0-9_-]{6}$/),
    });
    // Service, node and pid are the header's; sources name the definition by its seq.
    const record = JSON.parse(lines[2]) as StoredRecord;
    expect(Object.keys(record)).toEqual([
      'seq',
      'time',
      'op',
      'resource',
      'sources',
      'labels',
      'decision',
      'rule',
      'reason',
      'bytes',
      'contentDigest',
      'user',
      'traceId',
      'spanId',
      'h',
    ]);
    expect(record).toMatchObject({
      seq: 2,
      time: '2026-11-01T12:00:01.000Z',
      sources: 1,
      decision: 'violation',
      rule: 'r1',
      user: 'hmac:ab',
    });
    // The line ends in a check: the first 6 characters of its leaf hash (of the line without it) in base64url.
    const leaf = leafHash(splitRecordLine(lines[2])!.canonical);
    expect(lines[2].endsWith(`,"h":"${leaf.toString('base64url').slice(0, 6)}"}`)).toBe(true);
    expect(JSON.parse(lines[3])).toMatchObject({ seq: 3, op: 'record', sources: 1, action: 'dataset.created', attributes: { rows: 3 } });
    // Unsigned: the checkpoint is the C2SP note text alone (origin, size, root).
    const checkpoint = JSON.parse(lines[4]) as CheckpointLine;
    expect(checkpoint).toMatchObject({ type: 'checkpoint', closes: 'log' });
    expect(checkpoint.note).toMatch(new RegExp(`^${header.log}\n3\n[A-Za-z0-9+/]{43}=\n$`));
    expect(verifyJournal([dir]).ok).toBe(true);
  });

  // These records have no sources: each is one leaf, as the checkpoint sizes below count.
  it('batches: nothing is written until the flush interval or flushSync', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const dir = tempDir();
    const writer = openJournal(options(dir, { config: journalConfig({ checkpointEvery: 1000 }) }));
    const [file] = segmentFiles(dir);
    writer.append(flowEvent(1, { sources: [] }));
    expect(readLines(file)).toHaveLength(1);
    vi.advanceTimersByTime(99);
    expect(readLines(file)).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(readLines(file)).toHaveLength(2);
    writer.append(flowEvent(2, { sources: [] }));
    writer.flushSync();
    expect(readLines(file)).toHaveLength(3);
    writer.close();
  });

  it("sync 'always': the record is on disk when append returns", () => {
    const dir = tempDir();
    const writer = openJournal(options(dir, { config: journalConfig({ sync: 'always', checkpointEvery: 2 }) }));
    const [file] = segmentFiles(dir);
    writer.append(flowEvent(1, { sources: [] }));
    expect(readLines(file)).toHaveLength(2);
    writer.append(flowEvent(2, { sources: [] }));
    expect(readLines(file).map((l) => l.slice(0, 20))).toEqual([
      '{"type":"header","ve',
      '{"seq":1,"time":"202',
      '{"seq":2,"time":"202',
      '{"type":"checkpoint"',
    ]);
    writer.close();
  });

  it('checkpoints every N records, every T ms, on demand and at close; signed, and handed to onCheckpoint', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const dir = tempDir();
    const key = ed25519();
    const seen: WrittenCheckpoint[] = [];
    const writer = openJournal(
      options(dir, {
        signingKey: loadSigningKey(key.privatePem),
        config: journalConfig({ checkpointEvery: 3, checkpointIntervalMs: 1000 }),
        onCheckpoint: (cp) => {
          seen.push(cp);
          throw new Error('a broken listener must not matter');
        },
      }),
    );
    for (let i = 1; i <= 4; i++) writer.append(flowEvent(i, { sources: [] }));
    expect(seen.map((c) => c.size)).toEqual([3]);
    vi.advanceTimersByTime(1000);
    expect(seen.map((c) => c.size)).toEqual([3, 4]);
    writer.append(flowEvent(5, { sources: [] }));
    expect(writer.checkpoint().size).toBe(5);
    writer.close();
    expect(seen.map((c) => [c.size, c.closes])).toEqual([
      [3, null],
      [4, null],
      [5, null],
      [5, 'log'],
    ]);
    // Signed notes: the checkpoint text, a blank line, one signature line by the log key name.
    expect(seen.every((c) => /\n\n\u2014 provenant\/n1\/patients_api [A-Za-z0-9+/]{91}=\n$/.test(c.note))).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(verifyJournal([dir]).ok).toBe(true);
  });

  it('rotates by size: one log, one tree across segments, and seq runs on across them', () => {
    const dir = tempDir();
    const writer = openJournal(options(dir, { config: journalConfig({ segmentMaxBytes: 3000, checkpointEvery: 4 }) }));
    for (let i = 1; i <= 30; i++) writer.append(flowEvent(i));
    writer.close();
    const files = segmentFiles(dir);
    expect(files.length).toBeGreaterThan(2);
    const headers = files.map((f) => JSON.parse(readLines(f)[0]) as SegmentHeader);
    expect(headers.map((h) => h.index)).toEqual(files.map((_, i) => i));
    expect(new Set(headers.map((h) => h.log)).size).toBe(1);
    // Every segment but the last ends with the checkpoint that closes it; the last closes the log.
    expect(files.map((f) => (JSON.parse(readLines(f).at(-1)!) as CheckpointLine).closes)).toEqual([
      ...files.slice(1).map(() => 'segment'),
      'log',
    ]);
    for (const f of files) expect(readFileSync(f).length).toBeLessThanOrEqual(3000);
    const report = verifyJournal([dir]);
    expect(report.ok).toBe(true);
    expect(report.records).toBe(30);
    // Each segment defines the one source set again (nothing refers into another segment).
    expect(report.segments.map((segment) => segment.definitions)).toEqual(files.map(() => 1));
    expect(report.segments.at(-1)!.lastSeq).toBe(30 + files.length);
  });

  it('helpers: content digests carry their algorithm; users are pseudonymised with HMAC', () => {
    expect(contentDigest('sha256', 'abc')).toBe('sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(contentDigest('sha3-256', new Uint8Array([0x61, 0x62, 0x63]))).toBe(
      'sha3-256:3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532',
    );
    expect(contentDigest('sha512', '')).toMatch(/^sha512:cf83e135/);
    expect(contentDigest('blake2b512', '')).toMatch(/^blake2b512:786a02f7/);
    expect(contentDigest('none', 'abc')).toBeUndefined();
    // RFC 4231 test case 2.
    expect(pseudonymize('what do ya want for nothing?', 'Jefe')).toBe(
      'hmac:5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });
});

describe('journal writer failures', () => {
  it('an unwritable state dir: one warning, no throw, lostRecords counts', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'journal'), 'not a directory');
    const writer = openJournal(options(dir));
    for (let i = 1; i <= 5; i++) expect(() => writer.append(flowEvent(i))).not.toThrow();
    expect(() => writer.flushSync()).not.toThrow();
    expect(() => writer.close()).not.toThrow();
    expect(writer.lostRecords).toBe(5);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/journal not writable/);
  });

  it('a full disk mid-stream: lines in flight are lost and counted, then a new log once space is back', () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2026, 10, 1) });
    const dir = tempDir();
    const writer = openJournal(options(dir, { config: journalConfig({ checkpointEvery: 100 }) }));
    writer.append(flowEvent(1));
    writer.flushSync();
    disk.full = true;
    writer.append(flowEvent(2));
    writer.append(flowEvent(3));
    expect(() => writer.flushSync()).not.toThrow();
    expect(writer.lostRecords).toBe(2);
    writer.append(flowEvent(4));
    expect(writer.lostRecords).toBe(3);
    disk.full = false;
    vi.setSystemTime(Date.UTC(2026, 10, 1, 0, 0, 2));
    writer.append(flowEvent(5));
    writer.close();
    expect(writer.lostRecords).toBe(3);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/ENOSPC/);
    const files = segmentFiles(dir);
    expect(files).toHaveLength(2);
    const headers = files.map((f) => JSON.parse(readLines(f)[0]) as SegmentHeader);
    const first = headers.find((h) => !h.afterFailure)!;
    const second = headers.find((h) => h.afterFailure)!;
    // The lost records' leaves are in the first log's tree: a new log (new origin) starts at seq 1.
    expect(second).toMatchObject({ index: 0, afterFailure: true, previousLog: first.log, firstSeq: 1 });
    expect(second.log).not.toBe(first.log);
    const report = verifyJournal([dir]);
    expect(report.failures).toEqual([]);
    expect(report.warnings.map((w) => w.message).sort()).toEqual([
      expect.stringMatching(/after the last checkpoint are not covered/),
      expect.stringMatching(/log opened after a write failure/),
      expect.stringMatching(/no final checkpoint/),
    ]);
  });

  it('appends after close are counted as lost', () => {
    const dir = tempDir();
    const writer = openJournal(options(dir));
    writer.close();
    writer.append(flowEvent(1));
    expect(writer.lostRecords).toBe(1);
  });
});
