// A thread's log closed by its creator (journal/thread-handoff.ts), on real segment files: the
// closing checkpoint is the one the thread left and verifies, signed or not; a log the thread
// closed itself, or one it was killed in the middle of writing, is left as it is; a write after the
// creator closed the log goes to a new log, never after the closing checkpoint.
import { appendFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CheckpointLine } from '../../src/journal/format.js';
import { loadPublicKey, loadSigningKey } from '../../src/journal/keys.js';
import { closeThreadLog, newThreadHandoff, threadHandoff } from '../../src/journal/thread-handoff.js';
import { verifyJournal } from '../../src/journal/verify.js';
import { openJournal } from '../../src/journal/writer.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { ed25519, flowEvent, journalConfig, readLines, segmentFiles } from './helpers.js';

afterAll(cleanupTempDirs);

/** A thread's writer (written through) sharing `handoff` with its creator. */
function threadWriter(stateDir: string, handoff: SharedArrayBuffer, signingKey?: ReturnType<typeof loadSigningKey>) {
  return openJournal({
    stateDir,
    config: journalConfig({ checkpointEvery: 1000 }),
    service: 'pool',
    node: 'n1',
    pid: 9,
    writeThrough: true,
    handoff: threadHandoff(handoff),
    signingKey,
  });
}

function lastLine(file: string): CheckpointLine {
  return JSON.parse(readLines(file).at(-1) ?? '') as CheckpointLine;
}

describe('a log its creator closes', () => {
  it('ends with the closing checkpoint the thread left, and verifies with no warning', () => {
    const dir = tempDir();
    const handoff = newThreadHandoff();
    const writer = threadWriter(dir, handoff);
    for (let i = 1; i <= 3; i++) writer.append(flowEvent(i));
    const before = verifyJournal([dir]);
    expect(before.warnings.map((w) => w.message)).toContainEqual(expect.stringMatching(/^no final checkpoint/));
    closeThreadLog(handoff, false, undefined);
    const [file] = segmentFiles(dir);
    // Tree size 4: the three records and the definition of their source set.
    expect(lastLine(file)).toMatchObject({ type: 'checkpoint', closes: 'log', note: expect.stringMatching(/\n4\n/) });
    const report = verifyJournal([dir]);
    expect(report.failures).toEqual([]);
    expect(report.warnings).toEqual([]);
    expect(report.records).toBe(3);
  });

  it("is signed with the log's key: verify against the pinned key passes, every record covered", () => {
    const dir = tempDir();
    const keys = ed25519();
    const key = loadSigningKey(keys.privatePem);
    const handoff = newThreadHandoff();
    const writer = threadWriter(dir, handoff, key);
    writer.append(flowEvent(1));
    writer.append(flowEvent(2));
    closeThreadLog(handoff, true, key);
    const report = verifyJournal([dir], { publicKey: loadPublicKey(keys.publicPem) });
    expect(report.failures).toEqual([]);
    expect(report.warnings).toEqual([]);
  });

  it('is left unclosed by a creator that does not hold the key the log is signed with', () => {
    const dir = tempDir();
    const handoff = newThreadHandoff();
    const writer = threadWriter(dir, handoff, loadSigningKey(ed25519().privatePem));
    writer.append(flowEvent(1));
    const [file] = segmentFiles(dir);
    const lines = readLines(file).length;
    closeThreadLog(handoff, true, undefined);
    closeThreadLog(handoff, true, loadSigningKey(ed25519().privatePem));
    expect(readLines(file)).toHaveLength(lines);
    expect(verifyJournal([dir]).failures).toEqual([]);
  });

  it('sends a write made after the close to a new log: nothing follows the closing checkpoint, nothing is lost', () => {
    const dir = tempDir();
    const handoff = newThreadHandoff();
    const writer = threadWriter(dir, handoff);
    writer.append(flowEvent(1));
    closeThreadLog(handoff, true, undefined);
    writer.append(flowEvent(2));
    expect(writer.lostRecords).toBe(0);
    const files = segmentFiles(dir);
    expect(files).toHaveLength(2);
    const report = verifyJournal([dir]);
    expect(report.failures).toEqual([]);
    expect(report.records).toBe(2);
    // Only the new log lacks its final checkpoint: no one is left to close it.
    expect(new Set(report.warnings.map((w) => w.file)).size).toBe(1);
  });

  it('adds nothing to a log the thread closed itself', () => {
    const dir = tempDir();
    const handoff = newThreadHandoff();
    const writer = threadWriter(dir, handoff);
    writer.append(flowEvent(1));
    writer.close();
    const [file] = segmentFiles(dir);
    const lines = readLines(file).length;
    closeThreadLog(handoff, false, undefined);
    expect(readLines(file)).toHaveLength(lines);
    expect(verifyJournal([dir]).warnings).toEqual([]);
  });

  it('leaves a log whose thread ended in the middle of a write, and one whose file is not the size the note covers', () => {
    const dir = tempDir();
    const handoff = newThreadHandoff();
    const writer = threadWriter(dir, handoff);
    writer.append(flowEvent(1));
    const [file] = segmentFiles(dir);
    // The thread took the log to write, and was stopped before it gave it back.
    const stopped = threadHandoff(handoff);
    expect(stopped?.acquire()).toBe(true);
    const lines = readLines(file).length;
    closeThreadLog(handoff, false, undefined);
    expect(readLines(file)).toHaveLength(lines);

    // Lines the note does not cover (here a torn one): closing over them would make a log that fails.
    const grownDir = tempDir();
    const other = newThreadHandoff();
    threadWriter(grownDir, other).append(flowEvent(1));
    const [grown] = segmentFiles(grownDir);
    appendFileSync(grown, '{"seq":2');
    const size = statSync(grown).size;
    closeThreadLog(other, false, undefined);
    expect(statSync(grown).size).toBe(size);
  });

  it('does nothing for a thread that recorded nothing: no segment appears', () => {
    const dir = tempDir();
    const handoff = newThreadHandoff();
    closeThreadLog(handoff, true, undefined);
    expect(existsSync(path.join(dir, 'journal')) ? readdirSync(path.join(dir, 'journal')) : []).toEqual([]);
  });
});
