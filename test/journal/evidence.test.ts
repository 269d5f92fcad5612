// Evidence an auditor's own tools read: `keys`, `checkpoint`, `prove`, `verify-proof` on a log
// written by a real preloaded process, checked against a small C2SP verifier written here from the
// specs' byte layouts with node:crypto alone; plus verify's refusals (no state dir, no journal) and
// the start failure for an unusable journal key.
import { createHash, createPrivateKey, createPublicKey, verify as verifySignature } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointText, parseCheckpointText } from '../../src/journal/checkpoint.js';
import { checkpointLine, recordLine, splitRecordLine, type CheckpointLine } from '../../src/journal/format.js';
import { leafHash, MerkleAccumulator } from '../../src/journal/merkle.js';
import { formatNote, parseNote, signNoteText } from '../../src/journal/note.js';
import { queryRecords } from '../../src/journal/query.js';
import { sourcesDigest } from '../../src/provenance/sources-digest.js';
import { runNode, runCli as cli } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { ed25519, lineOfSeq, readLines, segmentFiles, writeLines } from './helpers.js';

afterAll(cleanupTempDirs);

const APP = `
  const fs = require('node:fs');
  // With INPUT, every report derives from it: the writes name a source set.
  if (process.env.INPUT) fs.readFileSync(process.env.INPUT);
  for (let i = 0; i < Number(process.env.FILES); i++) fs.writeFileSync(process.env.OUT + '/report-' + i + '.txt', 'row ' + i);
`;

/** Runs the app under the preload, writing FILES files; returns its exit result. */
function runApp(env: Record<string, string>) {
  return runNode({ args: ['-e', APP], preload: 'require', env });
}

// ---- an independent reading of the C2SP specs (signed-note, tlog-checkpoint, tlog-proof) ----

/** signed-note: text, blank line, `— name base64(keyID ‖ sig)` lines. */
function splitNote(note: string): { text: string; signatures: { name: string; bytes: Buffer }[] } {
  const at = note.lastIndexOf('\n\n');
  const text = note.slice(0, at + 1);
  const signatures = note
    .slice(at + 2)
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [dash, name, b64] = line.split(' ');
      expect(dash).toBe('\u2014');
      return { name, bytes: Buffer.from(b64, 'base64') };
    });
  return { text, signatures };
}

/** vkey `name+hex(keyID)+base64(type ‖ key)`, key ID = SHA-256(name ‖ 0x0A ‖ type ‖ key)[:4]. */
function readVkey(vkey: string): { name: string; keyId: Buffer; type: number; key: Buffer } {
  const first = vkey.indexOf('+');
  const name = vkey.slice(0, first);
  const keyId = Buffer.from(vkey.slice(first + 1, first + 9), 'hex');
  const material = Buffer.from(vkey.slice(first + 10), 'base64');
  const expected = createHash('sha256')
    .update(Buffer.concat([Buffer.from(name), Buffer.from([0x0a, material[0]]), material.subarray(1)]))
    .digest()
    .subarray(0, 4);
  expect(keyId.equals(expected)).toBe(true);
  return { name, keyId, type: material[0], key: material.subarray(1) };
}

function ed25519Verify(key: Buffer, message: Buffer | string, signature: Buffer): boolean {
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), key]);
  return verifySignature(null, Buffer.from(message), createPublicKey({ key: spki, format: 'der', type: 'spki' }), signature);
}

/** The note's signature by the Ed25519 (0x01) key, checked as signed-note says. */
function noteSignedBy(note: string, vkey: string): boolean {
  const key = readVkey(vkey);
  const { text, signatures } = splitNote(note);
  const mine = signatures.find((s) => s.name === key.name && s.bytes.subarray(0, 4).equals(key.keyId));
  return key.type === 0x01 && mine !== undefined && ed25519Verify(key.key, text, mine.bytes.subarray(4));
}

/** RFC 6962 §2.1.1 inclusion, recomputed from the proof bottom-up. */
function rootFromInclusion(index: number, size: number, leaf: Buffer, proof: Buffer[]): Buffer {
  const node = (l: Buffer, r: Buffer) =>
    createHash('sha256')
      .update(Buffer.from([1]))
      .update(l)
      .update(r)
      .digest();
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (fn % 2 === 1 || fn === sn) {
      r = node(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else r = node(r, p);
    fn >>= 1;
    sn >>= 1;
  }
  return r;
}

describe('verify refuses to vouch for nothing (issue 10, bug 5)', () => {
  it('a state dir that does not exist: a clear failure, exit 1', async () => {
    const missing = path.join(tempDir('provenant-evidence-'), 'does-not-exist');
    const result = await cli('verify', '--state', missing);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`FAIL ${missing}: state dir does not exist`);
    expect(result.stdout).not.toMatch(/OK/);
  });

  it('a state dir with no journal: a clear failure, exit 1', async () => {
    const empty = tempDir('provenant-evidence-');
    const result = await cli('verify', '--state', empty);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`FAIL ${empty}: no journal segments`);
  });
});

describe('PROVENANT_JOURNAL_KEY that cannot be used stops the start (exit 78)', () => {
  it.each([
    ['a missing file', (dir: string) => path.join(dir, 'no-such-key.pem'), /ENOENT/],
    ['a path that is no readable file', (dir: string) => unreadable(dir), /EISDIR|EACCES/],
    ['a file that is not a key', (dir: string) => notAKey(dir), /unusable/],
  ])('%s', async (_what, keyPath, reason) => {
    const dir = tempDir('provenant-evidence-');
    const result = await runNode({
      args: ['-e', 'console.log("app ran")'],
      preload: 'require',
      env: { PROVENANT_STATE_DIR: dir, PROVENANT_JOURNAL_KEY: keyPath(dir) },
    });
    expect(result.code).toBe(78);
    expect(result.stdout).not.toContain('app ran');
    expect(result.stderr).toMatch(/provenant: invalid config: PROVENANT_JOURNAL_KEY is unusable/);
    expect(result.stderr).toMatch(reason);
  });
});

function unreadable(dir: string): string {
  // A directory where a file is expected: unreadable as a key for root and non-root alike.
  const file = path.join(dir, 'key-dir.pem');
  mkdirSync(file);
  chmodSync(file, 0o000);
  return file;
}

function notAKey(dir: string): string {
  const file = path.join(dir, 'not-a-key.pem');
  writeFileSync(file, '-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n');
  return file;
}

describe('keys, checkpoint, prove and verify-proof on a real process log', () => {
  const owner = ed25519();
  let stateDir: string;
  let keyFile: string;

  beforeAll(async () => {
    stateDir = tempDir('provenant-evidence-');
    const out = tempDir('provenant-evidence-out-');
    keyFile = path.join(stateDir, '..', `${path.basename(stateDir)}-journal.pem`);
    writeFileSync(keyFile, owner.privatePem);
    const config = path.join(out, 'provenant.yaml');
    writeFileSync(config, 'service: clinic\nnode: n1\njournal: { repeatWindowMs: 0, checkpointEvery: 4 }\n');
    writeFileSync(path.join(out, 'input.csv'), 'a,b\n');
    const result = await runApp({
      PROVENANT_STATE_DIR: stateDir,
      PROVENANT_JOURNAL_KEY: keyFile,
      PROVENANT_CONFIG: config,
      OUT: out,
      FILES: '10',
      INPUT: path.join(out, 'input.csv'),
    });
    expect(result.code, result.stderr).toBe(0);
  });

  it('`keys` prints the log vkey; `checkpoint` prints a note that vkey verifies, read as the specs say', async () => {
    const keys = await cli('keys', '--state', stateDir);
    expect(keys.code, keys.stderr).toBe(0);
    const vkey = keys.stdout.trim();
    expect(vkey).toMatch(/^provenant\/n1\/clinic\+[0-9a-f]{8}\+[A-Za-z0-9+/]{43}[=]?[A-Za-z0-9+/=]*$/);
    expect(readVkey(vkey).type).toBe(0x01);

    const checkpoint = await cli('checkpoint', '--state', stateDir);
    expect(checkpoint.code, checkpoint.stderr).toBe(0);
    const { text } = splitNote(checkpoint.stdout);
    const [origin, size, root, ...rest] = text.split('\n');
    expect(origin).toMatch(/^provenant\/n1\/clinic\/\d+-\d+-[0-9a-f]{6}$/);
    expect(Number(size)).toBeGreaterThanOrEqual(10);
    expect(Buffer.from(root, 'base64')).toHaveLength(32);
    expect(rest).toEqual(['']);
    expect(noteSignedBy(checkpoint.stdout, vkey)).toBe(true);
    // One flipped byte in the signed text and the independent check fails too.
    expect(noteSignedBy(checkpoint.stdout.replace(`\n${size}\n`, `\n${Number(size) + 1}\n`), vkey)).toBe(false);
  });

  it('`prove` writes a tlog-proof that verify-proof and an independent reading both accept; a changed record fails', async () => {
    const vkey = (await cli('keys', '--state', stateDir)).stdout.trim();
    const [segment] = segmentFiles(stateDir);
    // A record that names its source set: the set's definition is a leaf of its own, proved the same way.
    const stored = readLines(segment).map((line) => JSON.parse(line) as { seq?: number; op?: string; sources?: unknown });
    const target = stored.find((line) => line.op !== undefined && typeof line.sources === 'number')!;
    const seq = target.seq!;
    const proofFile = path.join(stateDir, `record-${seq}.tlog-proof`);
    const proved = await cli('prove', path.basename(segment), String(seq), '--state', stateDir, '--out', proofFile);
    expect(proved.code, proved.stderr).toBe(0);

    const ok = await cli('verify-proof', proofFile, '--key', vkey);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^\\{"seq":${seq},`));
    expect(ok.stdout).toMatch(
      new RegExp(`OK: record at index ${seq - 1} is in provenant/n1/clinic/\\S+ at tree size \\d+, signed by provenant/n1/clinic`),
    );
    expect((await cli('verify-proof', proofFile, '--key', path.join(path.dirname(keyFile), path.basename(keyFile)))).code).toBe(0);

    // tlog-proof by hand: header, extra, index, proof lines, blank, checkpoint.
    const text = readFileSync(proofFile, 'utf8');
    const blank = text.indexOf('\n\n');
    const [header, extra, index, ...proofLines] = text.slice(0, blank).split('\n');
    expect(header).toBe('c2sp.org/tlog-proof@v1');
    const record = Buffer.from(extra.slice('extra '.length), 'base64');
    expect(JSON.parse(record.toString())).toMatchObject({ seq, sources: target.sources });
    const note = text.slice(blank + 2);
    expect(noteSignedBy(note, vkey)).toBe(true);
    const [, size, root] = splitNote(note).text.split('\n');
    const leaf = createHash('sha256')
      .update(Buffer.concat([Buffer.from([0]), record]))
      .digest();
    const computed = rootFromInclusion(
      Number(index.slice('index '.length)),
      Number(size),
      leaf,
      proofLines.map((l) => Buffer.from(l, 'base64')),
    );
    expect(computed.toString('base64')).toBe(root);

    // The definition the record names, proved on its own: its digest is that of the record's sources as readers resolve them.
    const definitionFile = path.join(stateDir, `definition-${String(target.sources)}.tlog-proof`);
    expect((await cli('prove', path.basename(segment), String(target.sources), '--state', stateDir, '--out', definitionFile)).code).toBe(0);
    const definitionProof = await cli('verify-proof', definitionFile, '--key', vkey);
    expect(definitionProof.code, definitionProof.stderr).toBe(0);
    const definition = JSON.parse(definitionProof.stdout.split('\n')[0]) as { define: string; count: number; digest: string };
    expect(definition.define).toBe('sources');
    const resolved = queryRecords([stateDir], {}, Number.MAX_SAFE_INTEGER, 1).records.find((r) => r.seq === seq)!;
    expect(resolved.sources.length).toBeGreaterThan(0);
    expect(definition).toMatchObject({ count: resolved.sources.length, digest: sourcesDigest(resolved.sources) });

    const altered = text.replace(
      extra,
      'extra ' + Buffer.from(record.toString().replace(`"seq":${seq}`, `"seq":${seq + 1}`)).toString('base64'),
    );
    writeFileSync(proofFile, altered);
    const bad = await cli('verify-proof', proofFile, '--key', vkey);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      new RegExp(`FAILED: record is not at index ${seq - 1} of the checkpointed tree \\(inclusion proof does not verify\\)`),
    );
    expect((await cli('verify-proof', proofFile)).code).toBe(64);
  });

  it('`verify --witness` with an older checkpoint: consistent while the log only grows, a failure once history is rewritten', async () => {
    const dir = tempDir('provenant-evidence-');
    const out = tempDir('provenant-evidence-out-');
    const config = path.join(out, 'provenant.yaml');
    writeFileSync(config, 'service: clinic\nnode: n1\njournal: { repeatWindowMs: 0, checkpointEvery: 3 }\n');
    expect(
      (await runApp({ PROVENANT_STATE_DIR: dir, PROVENANT_JOURNAL_KEY: keyFile, PROVENANT_CONFIG: config, OUT: out, FILES: '6' })).code,
    ).toBe(0);
    const [segment] = segmentFiles(dir);
    // The checkpoint at size 3, as an auditor saved it earlier.
    const lines = readLines(segment);
    const older = (JSON.parse(lines.find((l) => l.startsWith('{"type":"checkpoint"'))!) as { note: string }).note;
    expect(splitNote(older).text.split('\n')[1]).toBe('3');
    const olderFile = path.join(out, 'older.note');
    writeFileSync(olderFile, older);
    const publicKey = path.join(out, 'journal.pub.pem');
    writeFileSync(publicKey, owner.publicPem);
    const args = ['verify', '--state', dir, '--key', publicKey, '--witness', olderFile];
    expect((await cli(...args)).code).toBe(0);

    // The operator holds the key: rewrites record 2 and re-signs every checkpoint. Only the older one tells.
    const key = createPrivateKey(owner.privatePem);
    const tree = new MerkleAccumulator();
    const rewritten = lines.map((line, i) => {
      if (line.startsWith('{"seq":')) {
        const canonical = splitRecordLine(i === lineOfSeq(lines, 2) ? line.replace('report-1.txt', 'report-9.txt') : line)!.canonical;
        const leaf = leafHash(canonical);
        tree.push(leaf);
        return recordLine(canonical, leaf);
      }
      if (!line.startsWith('{"type":"checkpoint"')) return line;
      const cp = JSON.parse(line) as CheckpointLine;
      const body = parseCheckpointText(parseNote(cp.note).text);
      const text = checkpointText({ ...body, root: tree.root() });
      return checkpointLine({ ...cp, note: formatNote({ text, signatures: [signNoteText(text, 'provenant/n1/clinic', key)] }) });
    });
    expect(lines[lineOfSeq(lines, 2)]).toContain('report-1.txt');
    writeLines(segment, rewritten);
    expect((await cli('verify', '--state', dir, '--key', publicKey)).code).toBe(0);
    const bad = await cli(...args);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/FAIL \S+ seq 1: records do not match \S+older.note:1, a checkpoint of size 3 signed by the log key/);
  });
});
