// The tamper matrix on real segments written by the writer: every change is reported with the
// segment file and the first bad sequence number, by the library and by `provenant verify`.
import { readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createHash, createPrivateKey, sign } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { checkpointLine, checkpointStatement, headerHash, recordLine, splitRecordLine, type Checkpoint } from '../../src/journal/format.js';
import { keyIdOf, loadPublicKey } from '../../src/journal/keys.js';
import { leafHash, rootOf } from '../../src/journal/merkle.js';
import { verifyJournal, type VerifyReport } from '../../src/journal/verify.js';
import { openJournal } from '../../src/journal/writer.js';
import { repoRoot, runNode } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { ed25519, flowEvent, journalConfig, lineOfSeq, readLines, segmentFiles, writeLines, type KeyPair } from './helpers.js';

afterAll(cleanupTempDirs);

const owner = ed25519();
const intruder = ed25519();

/** 20 records, checkpoints after every 5, closed cleanly; returns the state dir, its one segment and the witness copies. */
function journal(options: { key?: KeyPair; segmentMaxBytes?: number; records?: number } = {}): {
  dir: string;
  file: string;
  witnesses: Checkpoint[];
} {
  const dir = tempDir('provenant-tamper-');
  const witnesses: Checkpoint[] = [];
  const writer = openJournal({
    stateDir: dir,
    config: journalConfig({ segmentMaxBytes: options.segmentMaxBytes ?? 16 << 20 }),
    service: 'patients',
    node: 'n1',
    pid: 4242,
    signingKey: (options.key ?? owner).privatePem,
    onCheckpoint: (checkpoint) => witnesses.push(checkpoint),
  });
  for (let i = 1; i <= (options.records ?? 20); i++) writer.append(flowEvent(i));
  writer.close();
  expect(writer.lostRecords).toBe(0);
  return { dir, file: segmentFiles(dir)[0], witnesses };
}

function failure(report: VerifyReport): { file: string; seq: number | null; message: string } {
  expect(report.ok).toBe(false);
  return report.failures[0];
}

function edit(file: string, change: (lines: string[]) => void): void {
  const lines = readLines(file);
  change(lines);
  writeLines(file, lines);
}

/** Re-hashes a changed record so only the Merkle root and checkpoints can tell. */
function rehash(line: string): string {
  const canonical = splitRecordLine(line)!.canonical;
  return recordLine(canonical, leafHash(canonical).toString('hex'));
}

const cli = (...args: string[]) => runNode({ args: [path.join(repoRoot, 'dist', 'cli', 'main.js'), ...args] });

describe('verify: a clean journal', () => {
  it('verifies, signed and closed', () => {
    const { dir, file } = journal();
    const report = verifyJournal([dir], { publicKey: loadPublicKey(owner.publicPem) });
    expect(report.failures).toEqual([]);
    expect(report.warnings).toEqual([]);
    expect(report.records).toBe(20);
    expect(report.segments).toMatchObject([
      { file: path.basename(file), firstSeq: 1, lastSeq: 20, closed: true, status: 'ok', checkpoints: 5 },
    ]);
  });

  it('exits 0 from the CLI, and 1 naming file and seq once a byte flips', async () => {
    const { dir, file } = journal();
    const ok = await cli('verify', '--state', dir);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^OK: 1 segment\(s\), 20 record\(s\)/m);
    const keyFile = path.join(dir, 'journal.pub.pem');
    writeFileSync(keyFile, owner.publicPem);
    const json = await cli('verify', '--state', dir, '--json', '--key', keyFile);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, records: 20 });

    edit(file, (lines) => (lines[lineOfSeq(lines, 7)] = lines[lineOfSeq(lines, 7)].replace('/out/7.json', '/out/8.json')));
    const bad = await cli('verify', '--state', dir);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`FAIL ${path.basename(file)} seq 7: record hash does not match`);
    const badJson = await cli('verify', '--state', dir, '--json');
    expect(badJson.code).toBe(1);
    expect(JSON.parse(badJson.stdout).failures[0]).toMatchObject({ file: path.basename(file), seq: 7 });
  });
});

describe('verify: the tamper matrix', () => {
  it('a header of another format version', () => {
    const { dir, file } = journal();
    edit(file, (lines) => (lines[0] = lines[0].replace('"version":1', '"version":2')));
    expect(failure(verifyJournal([dir]))).toMatchObject({ file: path.basename(file) });
    expect(failure(verifyJournal([dir])).message).toMatch(/format version 2/);
  });

  it('flipped byte', () => {
    const { dir, file } = journal();
    const bytes = readFileSync(file);
    const lines = readLines(file);
    const offset = lines.slice(0, lineOfSeq(lines, 12)).reduce((n, line) => n + Buffer.byteLength(line) + 1, 0) + 40;
    bytes[offset] = bytes[offset] ^ 0x01;
    writeFileSync(file, bytes);
    expect(failure(verifyJournal([dir]))).toMatchObject({ file: path.basename(file), seq: 12 });
  });

  it('deleted record', () => {
    const { dir, file } = journal();
    edit(file, (lines) => lines.splice(lineOfSeq(lines, 9), 1));
    expect(failure(verifyJournal([dir]))).toMatchObject({
      file: path.basename(file),
      seq: 9,
      message: expect.stringMatching(/expected seq 9, found 10/),
    });
  });

  it('deleted record just before a checkpoint', () => {
    const { dir, file } = journal();
    edit(file, (lines) => lines.splice(lineOfSeq(lines, 10), 1));
    expect(failure(verifyJournal([dir]))).toMatchObject({ seq: 10, message: expect.stringMatching(/covers 10 records but 9 precede/) });
  });

  it('inserted record (a copy of an earlier one)', () => {
    const { dir, file } = journal();
    edit(file, (lines) => lines.splice(lineOfSeq(lines, 14), 0, lines[lineOfSeq(lines, 3)]));
    expect(failure(verifyJournal([dir]))).toMatchObject({ file: path.basename(file), seq: 14 });
  });

  it('inserted record with a valid hash and renumbered successors: the checkpoint root fails', () => {
    const { dir, file } = journal();
    edit(file, (lines) => {
      const at = lineOfSeq(lines, 8);
      const forged = rehash(lines[at].replace('"op":"write"', '"op":"read"'));
      lines.splice(at, 0, forged);
      // Renumber 8.. so seq stays contiguous; the root of the next checkpoint must then differ.
      let seq = 8;
      for (let i = at; i < lines.length; i++) {
        if (lines[i].startsWith('{"seq":')) lines[i] = rehash(lines[i].replace(/^\{"seq":\d+,/, `{"seq":${seq++},`));
      }
    });
    expect(failure(verifyJournal([dir]))).toMatchObject({
      seq: 6,
      message: expect.stringMatching(/checkpoint at tree size 10: .*(covers|root)/),
    });
  });

  it('reordered records', () => {
    const { dir, file } = journal();
    edit(file, (lines) => {
      const a = lineOfSeq(lines, 16);
      [lines[a], lines[a + 1]] = [lines[a + 1], lines[a]];
    });
    expect(failure(verifyJournal([dir]))).toMatchObject({
      file: path.basename(file),
      seq: 16,
      message: expect.stringMatching(/expected seq 16, found 17/),
    });
  });

  it('forged checkpoint signature (altered record, re-hashed, root re-signed with another key)', () => {
    const { dir, file } = journal();
    const intruderKey = createPrivateKey(intruder.privatePem);
    edit(file, (lines) => {
      const at = lineOfSeq(lines, 7);
      lines[at] = rehash(lines[at].replace('"decision":"allow"', '"decision":"deny"'));
      // Recompute the checkpoint at 10 over the altered records and sign it with the intruder's key.
      const cpAt = lines.findIndex((line, i) => i > at && line.startsWith('{"type":"checkpoint"'));
      const leaves = lines
        .filter((line) => line.startsWith('{"seq":'))
        .slice(0, 10)
        .map((line) => leafHash(splitRecordLine(line)!.canonical));
      const original = JSON.parse(lines[cpAt]) as Checkpoint;
      const forged: Checkpoint = { ...original, root: rootOf(leaves).toString('hex') };
      forged.signature = sign(null, Buffer.from(checkpointStatement(forged)), intruderKey).toString('base64');
      lines[cpAt] = checkpointLine(forged);
    });
    expect(failure(verifyJournal([dir]))).toMatchObject({
      file: path.basename(file),
      seq: 6,
      message: expect.stringMatching(/signature does not verify/),
    });
  });

  it('a whole segment re-signed with another key passes alone, and fails against the expected key', () => {
    const { dir, file } = journal();
    const intruderKey = createPrivateKey(intruder.privatePem);
    const intruderPublic = loadPublicKey(intruder.publicPem);
    edit(file, (lines) => {
      const header = JSON.parse(lines[0]) as Record<string, unknown>;
      header['publicKey'] = intruderPublic;
      header['keyId'] = keyIdOf(Buffer.from(intruderPublic, 'base64'));
      lines[0] = JSON.stringify(header);
      const hash = headerHash(lines[0]);
      for (let i = 1; i < lines.length; i++) {
        if (!lines[i].startsWith('{"type":"checkpoint"')) continue;
        const cp = JSON.parse(lines[i]) as Checkpoint;
        const resigned: Checkpoint = { ...cp, header: hash, keyId: header['keyId'] as string };
        resigned.signature = sign(null, Buffer.from(checkpointStatement(resigned)), intruderKey).toString('base64');
        lines[i] = checkpointLine(resigned);
      }
    });
    expect(verifyJournal([dir]).ok).toBe(true);
    expect(failure(verifyJournal([dir], { publicKey: loadPublicKey(owner.publicPem) }))).toMatchObject({
      file: path.basename(file),
      seq: 1,
      message: expect.stringMatching(/signed by key .* not the expected key/),
    });
  });

  it('an unsigned journal fails when a key is expected', () => {
    const dir = tempDir('provenant-tamper-');
    const writer = openJournal({ stateDir: dir, config: journalConfig(), service: 's', node: 'n1', pid: 1 });
    writer.append(flowEvent(1));
    writer.close();
    expect(verifyJournal([dir]).ok).toBe(true);
    expect(failure(verifyJournal([dir], { publicKey: loadPublicKey(owner.publicPem) })).message).toMatch(/unsigned/);
  });

  it('truncated mid-line', () => {
    const { dir, file } = journal();
    const lines = readLines(file);
    const keep = lines.slice(0, lineOfSeq(lines, 18)).reduce((n, line) => n + Buffer.byteLength(line) + 1, 0) + 30;
    truncateSync(file, keep);
    expect(failure(verifyJournal([dir]))).toMatchObject({
      file: path.basename(file),
      seq: 18,
      message: expect.stringMatching(/cut short/),
    });
  });

  it('truncated past a checkpoint at a line boundary: a warning alone, a failure against the witness', () => {
    const { dir, file, witnesses } = journal();
    edit(file, (lines) => lines.splice(lineOfSeq(lines, 13)));
    const alone = verifyJournal([dir]);
    expect(alone.ok).toBe(true);
    expect(alone.warnings[0]).toMatchObject({ file: path.basename(file), message: expect.stringMatching(/no final checkpoint/) });
    expect(failure(verifyJournal([dir], { witnesses }))).toMatchObject({
      file: path.basename(file),
      seq: 13,
      message: expect.stringMatching(/truncated: a witness saw 20 records, 12 remain/),
    });
  });

  it('a deleted newest segment is caught by the witness, also through `verify --witness`', async () => {
    const { dir, file, witnesses } = journal();
    const witnessFile = path.join(dir, 'witness.jsonl');
    writeFileSync(witnessFile, witnesses.map((w) => JSON.stringify(w) + '\n').join(''));
    rmSync(file);
    expect(verifyJournal([dir]).ok).toBe(true);
    expect(failure(verifyJournal([dir], { witnesses }))).toMatchObject({
      file: path.basename(file),
      message: expect.stringMatching(/missing/),
    });
    const result = await cli('verify', '--state', dir, '--witness', witnessFile);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`FAIL ${path.basename(file)}: segment is missing`);
  });

  it('records appended after the final checkpoint', () => {
    const { dir, file } = journal();
    edit(file, (lines) => lines.push(rehash(lines[lineOfSeq(lines, 20)].replace('{"seq":20,', '{"seq":21,'))));
    expect(failure(verifyJournal([dir]))).toMatchObject({ seq: 21, message: expect.stringMatching(/after the final checkpoint/) });
  });

  it('rotated segments: truncating or deleting an earlier one breaks the chain', () => {
    const { dir } = journal({ segmentMaxBytes: 4096, records: 60 });
    const files = segmentFiles(dir);
    expect(files.length).toBeGreaterThanOrEqual(3);
    expect(verifyJournal([dir]).ok).toBe(true);

    edit(files[0], (lines) => lines.splice(lines.length - 3));
    const cut = verifyJournal([dir]);
    expect(cut.failures.map((f) => f.file)).toContain(path.basename(files[1]));
    expect(cut.failures.find((f) => f.file === path.basename(files[1]))!.message).toMatch(/does not chain/);

    rmSync(files[0]);
    rmSync(files[1]);
    const gone = failure(verifyJournal([dir]));
    expect(gone.file).toBe(path.basename(files[2]));
    expect(gone.message).toMatch(/missing/);
  });

  it('a renamed segment no longer verifies', () => {
    const { dir, file } = journal();
    const renamed = file.replace('-000000.jsonl', '-000007.jsonl');
    writeFileSync(renamed, readFileSync(file));
    rmSync(file);
    expect(failure(verifyJournal([dir])).message).toMatch(/renamed/);
  });

  it('the checkpoint statement is what is signed', () => {
    const { file } = journal();
    const cp = JSON.parse(readLines(file).at(-1)!) as Checkpoint;
    expect(cp).toMatchObject({ type: 'checkpoint', treeSize: 20, final: true });
    expect(checkpointStatement(cp)).toBe(
      `provenant-checkpoint/1\nheader=${createHash('sha256').update(readLines(file)[0]).digest('hex')}\ntreeSize=20\nroot=${cp.root}\ntime=${cp.time}\nfinal=1`,
    );
  });
});
