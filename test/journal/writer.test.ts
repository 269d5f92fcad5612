// The writer: record format, batching and sync modes, checkpoints, rotation and failures
// (unwritable dir, full disk) that must never throw or crash.
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Checkpoint, JournalRecord, SegmentHeader } from '../../src/journal/format.js';
import { verifyJournal } from '../../src/journal/verify.js';
import { contentDigest, pseudonymize } from '../../src/journal/digest.js';
import { openJournal } from '../../src/journal/writer.js';
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
    expect(path.basename(file)).toMatch(/^patients_api-77-\d+-[0-9a-f]{4}-000000\.jsonl$/);
    const lines = readLines(file);
    const header = JSON.parse(lines[0]) as SegmentHeader;
    expect(header).toMatchObject({
      type: 'header',
      version: 1,
      segment: path.basename(file),
      service: 'patients api',
      node: 'n1',
      pid: 77,
      index: 0,
      firstSeq: 1,
      prev: null,
      publicKey: null,
    });
    const record = JSON.parse(lines[1]) as JournalRecord;
    expect(Object.keys(record)).toEqual([
      'seq',
      'time',
      'service',
      'node',
      'pid',
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
      'hash',
    ]);
    expect(record).toMatchObject({ seq: 1, time: '2026-11-01T12:00:01.000Z', decision: 'violation', rule: 'r1', user: 'hmac:ab' });
    expect(record.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(lines[2])).toMatchObject({ seq: 2, op: 'record', action: 'dataset.created', attributes: { rows: 3 } });
    expect(JSON.parse(lines[3])).toMatchObject({ type: 'checkpoint', treeSize: 2, final: true, keyId: null, signature: null });
    expect(verifyJournal([dir]).ok).toBe(true);
  });

  it('batches: nothing is written until the flush interval or flushSync', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const dir = tempDir();
    const writer = openJournal(options(dir, { config: journalConfig({ checkpointEvery: 1000 }) }));
    const [file] = segmentFiles(dir);
    writer.append(flowEvent(1));
    expect(readLines(file)).toHaveLength(1);
    vi.advanceTimersByTime(99);
    expect(readLines(file)).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(readLines(file)).toHaveLength(2);
    writer.append(flowEvent(2));
    writer.flushSync();
    expect(readLines(file)).toHaveLength(3);
    writer.close();
  });

  it("sync 'always': the record is on disk when append returns", () => {
    const dir = tempDir();
    const writer = openJournal(options(dir, { config: journalConfig({ sync: 'always', checkpointEvery: 2 }) }));
    const [file] = segmentFiles(dir);
    writer.append(flowEvent(1));
    expect(readLines(file)).toHaveLength(2);
    writer.append(flowEvent(2));
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
    const seen: Checkpoint[] = [];
    const writer = openJournal(
      options(dir, {
        signingKey: key.privatePem,
        config: journalConfig({ checkpointEvery: 3, checkpointIntervalMs: 1000 }),
        onCheckpoint: (cp) => {
          seen.push(cp);
          throw new Error('a broken listener must not matter');
        },
      }),
    );
    for (let i = 1; i <= 4; i++) writer.append(flowEvent(i));
    expect(seen.map((c) => c.treeSize)).toEqual([3]);
    vi.advanceTimersByTime(1000);
    expect(seen.map((c) => c.treeSize)).toEqual([3, 4]);
    writer.append(flowEvent(5));
    expect(writer.checkpoint().treeSize).toBe(5);
    writer.close();
    expect(seen.map((c) => [c.treeSize, c.final])).toEqual([
      [3, false],
      [4, false],
      [5, false],
      [5, true],
    ]);
    expect(seen.every((c) => c.signature !== null && /^[0-9a-f]{16}$/.test(c.keyId ?? ''))).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(verifyJournal([dir]).ok).toBe(true);
  });

  it('rotates by size, chaining segments, and seq runs on across them', () => {
    const dir = tempDir();
    const writer = openJournal(options(dir, { config: journalConfig({ segmentMaxBytes: 3000, checkpointEvery: 4 }) }));
    for (let i = 1; i <= 30; i++) writer.append(flowEvent(i));
    writer.close();
    const files = segmentFiles(dir);
    expect(files.length).toBeGreaterThan(2);
    const headers = files.map((f) => JSON.parse(readLines(f)[0]) as SegmentHeader);
    expect(headers.map((h) => h.index)).toEqual(files.map((_, i) => i));
    expect(headers[1].prev).toMatchObject({ segment: path.basename(files[0]) });
    for (const f of files) expect(readFileSync(f).length).toBeLessThanOrEqual(3000);
    const report = verifyJournal([dir]);
    expect(report.ok).toBe(true);
    expect(report.records).toBe(30);
    expect(report.segments.at(-1)!.lastSeq).toBe(30);
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

  it('a full disk mid-stream: lines in flight are lost and counted, then a new segment once space is back', () => {
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
    expect(JSON.parse(readLines(files[1])[0])).toMatchObject({ index: 1, afterFailure: true, prev: null, firstSeq: 4 });
    const report = verifyJournal([dir]);
    expect(report.failures).toEqual([]);
    expect(report.warnings.map((w) => w.message)).toEqual([
      expect.stringMatching(/no final checkpoint/),
      expect.stringMatching(/after a write failure/),
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
