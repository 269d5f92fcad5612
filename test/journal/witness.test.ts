// C2SP witnesses: two real `provenant witness` processes, one of them stopped. A preloaded app
// submits its checkpoints in the background; the running witness cosigns (checked here from the
// tlog-cosignature byte layout with node:crypto), verify enforces the quorum, and a forked
// checkpoint of the same size gets 409 from the witness and is reported by verify as a split view;
// a witness ahead of a running process is reported by its witness client. The queue survives a restart.
import { createHash, createPrivateKey, createPublicKey, verify as verifySignature } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, watch, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointText, parseCheckpointText } from '../../src/journal/checkpoint.js';
import { loadPublicKey, logVkey } from '../../src/journal/keys.js';
import { consistencyProof, EMPTY_ROOT, leafHash, rootOf } from '../../src/journal/merkle.js';
import { readLeaves } from '../../src/journal/read.js';
import { formatAddCheckpoint } from '../../src/journal/tlog-witness.js';
import { formatNote, parseNote, signNoteText } from '../../src/journal/note.js';
import { freePort } from '../helpers/ports.js';
import { repoRoot, runNode, startNode, stopAll, type NodeProcess } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { ed25519 } from './helpers.js';

const main = path.join(repoRoot, 'dist', 'cli', 'main.js');
const cli = (...args: string[]) => runNode({ args: [main, ...args] });

const owner = ed25519();
const logKey = logVkey('n1', 'clinic', loadPublicKey(owner.publicPem)).text;

interface RunningWitness {
  process: NodeProcess;
  url: string;
  vkey: string;
}

/** A witness process; `port` 0 lets the OS pick. Its key lives in `state`, so a restart keeps it. */
async function startWitness(name: string, state: string, port = 0): Promise<RunningWitness> {
  const process = startNode({
    args: [main, 'witness', '--listen', `127.0.0.1:${port}`, '--state', state, '--log-key', logKey, '--name', name],
  });
  const [, url] = await process.waitForLine(/^listening (http:\/\/127\.0\.0\.1:\d+)$/);
  const [, vkey] = await process.waitForLine(/^vkey (\S+)$/);
  return { process, url, vkey };
}

let up: RunningWitness;
let down: RunningWitness;
const downState = tempDir('provenant-witness-');
let downPort: number;
let stateDir: string;
let config: string;
let cosigned: string;
let out: string;
let keyFile: string;

/** Resolves once `done()` holds, re-checked on every change in `dir` (no sleeps). */
function until(dir: string, done: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const watcher = watch(dir, () => {
      if (!done()) return;
      watcher.close();
      resolve();
    });
    if (done()) {
      watcher.close();
      resolve();
    }
  });
}

function cosignedPathOf(journal: string): string {
  return path.join(
    journal,
    readdirSync(journal).find((name) => name.endsWith('.cosigned'))!,
  );
}

/** The app under the preload: 8 files written, journal signed, witnesses from the config. */
async function runApp(): Promise<string> {
  const app = await runNode({
    args: ['-e', `for (let i = 0; i < 8; i++) require('node:fs').writeFileSync(${JSON.stringify(out)} + '/r' + i, 'x')`],
    preload: 'require',
    env: { PROVENANT_STATE_DIR: stateDir, PROVENANT_JOURNAL_KEY: keyFile, PROVENANT_CONFIG: config, OTEL_LOG_LEVEL: 'warn' },
  });
  expect(app.code, app.stderr).toBe(0);
  return app.stderr;
}

beforeAll(async () => {
  downPort = await freePort();
  [up, down] = await Promise.all([
    startWitness('w1.example/witness', tempDir('provenant-witness-')),
    startWitness('w2.example/witness', downState, downPort),
  ]);
  await down.process.kill('SIGTERM');
  stateDir = tempDir('provenant-witnessed-');
  out = tempDir('provenant-witnessed-out-');
  keyFile = path.join(out, 'journal.pem');
  writeFileSync(keyFile, owner.privatePem);
  config = path.join(out, 'provenant.yaml');
  writeFileSync(
    config,
    [
      'service: clinic',
      'node: n1',
      'journal:',
      '  repeatWindowMs: 0',
      '  checkpointEvery: 3',
      '  witnessQuorum: 1',
      '  witnesses:',
      `    - { url: "${up.url}", vkey: "${up.vkey}" }`,
      `    - { url: "${down.url}", vkey: "${down.vkey}" }`,
    ].join('\n') + '\n',
  );
  await runApp();
  const journal = path.join(stateDir, 'journal');
  cosigned = path.join(
    journal,
    readdirSync(journal).find((name) => name.endsWith('.cosigned'))!,
  );
});

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

describe('witnessed journal', () => {
  it('the running witness cosigned the final checkpoint, as tlog-cosignature/v1 lays it out', async () => {
    const note = readFileSync(cosigned, 'utf8');
    const latest = (await cli('checkpoint', '--state', stateDir)).stdout;
    expect(latest).toBe(note);
    const at = note.lastIndexOf('\n\n');
    const text = note.slice(0, at + 1);
    expect(Number(text.split('\n')[1])).toBeGreaterThanOrEqual(8);
    const lines = note
      .slice(at + 2)
      .trim()
      .split('\n');
    expect(lines.map((l) => l.split(' ')[1])).toEqual(['provenant/n1/clinic', 'w1.example/witness']);

    // keyID = SHA-256(name ‖ 0x0A ‖ 0x04 ‖ key)[:4]; body = keyID ‖ u64 timestamp ‖ Ed25519 over
    // "cosignature/v1\ntime <t>\n" ‖ checkpoint text.
    const first = up.vkey.indexOf('+');
    const material = Buffer.from(up.vkey.slice(first + 10), 'base64');
    expect(material[0]).toBe(0x04);
    const key = material.subarray(1);
    const bytes = Buffer.from(lines[1].split(' ')[2], 'base64');
    const keyId = createHash('sha256')
      .update('w1.example/witness\n')
      .update(Buffer.from([0x04]))
      .update(key)
      .digest()
      .subarray(0, 4);
    expect(bytes.subarray(0, 4).equals(keyId)).toBe(true);
    const timestamp = bytes.readBigUInt64BE(4);
    expect(timestamp).toBeGreaterThan(0n);
    const spki = createPublicKey({
      key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), key]),
      format: 'der',
      type: 'spki',
    });
    expect(verifySignature(null, Buffer.from(`cosignature/v1\ntime ${timestamp}\n${text}`), spki, bytes.subarray(12))).toBe(true);
  });

  it('verify: the configured quorum of 1 holds with one witness down; a quorum of both does not', async () => {
    const byConfig = await cli('verify', '--state', stateDir, '--config', config);
    expect(byConfig.code, byConfig.stderr).toBe(0);
    const both = await cli('verify', '--state', stateDir, '--witness-key', up.vkey, '--witness-key', down.vkey);
    expect(both.code).toBe(1);
    expect(both.stderr).toMatch(/FAIL \S+: no checkpoint of this log is cosigned by 2 of the 2 witness key\(s\)/);
    const onlyDown = await cli('verify', '--state', stateDir, '--witness-key', down.vkey);
    expect(onlyDown.code).toBe(1);
  });

  it('a proof carries the cosignature: verify-proof checks it against the witness key', async () => {
    const proofFile = path.join(stateDir, 'r.tlog-proof');
    const log = path.basename(cosigned, '.cosigned');
    expect((await cli('prove', log, '2', '--state', stateDir, '--out', proofFile)).code).toBe(0);
    const result = await cli('verify-proof', proofFile, '--key', logKey, '--witness-key', up.vkey);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/cosigned by 1 of 1 witness\(es\)/);
    const quorum = await cli('verify-proof', proofFile, '--key', logKey, '--witness-key', up.vkey, '--witness-key', down.vkey);
    expect(quorum.code).toBe(1);
    expect(quorum.stderr).toMatch(/cosigned by 1 of the witness keys, 2 required/);
  });

  it('a fork of the same size: the witness answers 409 with its size, and verify reports the split view', async () => {
    const note = parseNote(readFileSync(cosigned, 'utf8'));
    const body = parseCheckpointText(note.text);
    const forkText = checkpointText({ ...body, root: createHash('sha256').update('another history').digest() });
    const fork = formatNote({
      text: forkText,
      signatures: [signNoteText(forkText, 'provenant/n1/clinic', createPrivateKey(owner.privatePem))],
    });

    const conflict = await fetch(`${up.url}/add-checkpoint`, { method: 'POST', body: `old 0\n\n${fork}` });
    expect(conflict.status).toBe(409);
    expect(conflict.headers.get('content-type')).toBe('text/x.tlog.size');
    expect(await conflict.text()).toBe(`${body.size}\n`);
    const same = await fetch(`${up.url}/add-checkpoint`, { method: 'POST', body: `old ${body.size}\n\n${fork}` });
    expect(same.status).toBe(422);

    // What the witness holds, from its monitoring endpoint, against the fork the log showed elsewhere.
    const originHash = createHash('sha256').update(body.origin).digest('hex');
    const held = await fetch(`${up.url}/${originHash}/checkpoint`);
    expect(held.status).toBe(200);
    const heldFile = path.join(stateDir, 'held.notes');
    writeFileSync(heldFile, `${await held.text()}\n${fork}`);
    const result = await cli('verify', '--state', stateDir, '--witness', heldFile);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(`split view: \\S+held.notes:1 and \\S+held.notes:\\d+ hold two different checkpoints of size ${body.size}`),
    );
  });

  it('the witness refuses what the protocol says to refuse', async () => {
    const post = (text: string) => fetch(`${up.url}/add-checkpoint`, { method: 'POST', body: text });
    const intruder = createPrivateKey(ed25519().privatePem);
    const sign = (text: string, key = createPrivateKey(owner.privatePem)) =>
      formatNote({ text, signatures: [signNoteText(text, 'provenant/n1/clinic', key)] });
    const empty = (origin: string, root = EMPTY_ROOT) => checkpointText({ origin, size: 0, root });
    expect((await post('not a request')).status).toBe(400);
    expect((await post(`old 0\n\n${sign(empty('example.com/other-log'))}`)).status).toBe(404);
    expect((await post(`old 0\n\n${sign(empty('provenant/n1/clinic/1-2-abcdef'), intruder)}`)).status).toBe(403);
    expect((await post(`old 0\n\n${sign(empty('provenant/n1/clinic/1-2-abcdef', Buffer.alloc(32, 1)))}`)).status).toBe(422);
    expect((await post(`old 5\n\n${sign(empty('provenant/n1/clinic/1-2-abcdef'))}`)).status).toBe(400);
    const ok = await post(`old 0\n\n${sign(empty('provenant/n1/clinic/1-2-abcdef'))}`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/^\u2014 w1\.example\/witness [A-Za-z0-9+/]{102}==\n$/);
  });

  it('the queue is durable: once the stopped witness is back, a later process submits what the first could not', async () => {
    const journal = path.join(stateDir, 'journal');
    const pending = () => readdirSync(journal).filter((name) => name.endsWith('.pending'));
    expect(pending()).toEqual([path.basename(cosigned, '.cosigned') + '.pending']);
    down = await startWitness('w2.example/witness', downState, downPort);
    // A process that keeps running: its witness worker adopts the first log's queue in the background.
    const app = startNode({
      args: [
        '-e',
        `require('node:fs').writeFileSync(${JSON.stringify(out)} + '/late', 'x'); console.log('ready'); setInterval(() => {}, 1000);`,
      ],
      preload: 'require',
      env: { PROVENANT_STATE_DIR: stateDir, PROVENANT_JOURNAL_KEY: keyFile, PROVENANT_CONFIG: config },
    });
    await until(journal, () => !pending().includes(path.basename(cosigned, '.cosigned') + '.pending'));
    // Its worker can adopt the queue before the app's own code has run: stop it only once it has written.
    await app.waitForLine(/ready/);
    await app.kill('SIGTERM');
    const both = await cli('verify', '--state', stateDir, '--witness-key', up.vkey, '--witness-key', down.vkey, '--json');
    expect(both.code, both.stdout).toBe(0);
    const report = JSON.parse(both.stdout) as { logs: { witnessed: number | null; records: number }[] };
    expect(report.logs).toHaveLength(2);
    for (const log of report.logs) expect(log.witnessed).toBe(log.records);
  });

  it('the witness client reports a split view when a witness holds a larger checkpoint of its log than it ever signed', async () => {
    const dir = tempDir('provenant-split-');
    const splitConfig = path.join(dir, 'provenant.yaml');
    writeFileSync(
      splitConfig,
      `service: clinic\nnode: n1\njournal:\n  repeatWindowMs: 0\n  checkpointEvery: 3\n  witnesses:\n    - { url: "${up.url}", vkey: "${up.vkey}" }\n`,
    );
    const journal = path.join(dir, 'state', 'journal');
    const write = (name: string) => `require('node:fs').writeFileSync(${JSON.stringify(dir)} + '/${name}', 'x')`;
    const app = startNode({
      args: [
        '-e',
        `${write('a')}; ${write('b')}; ${write('c')}; process.stdin.once('data', () => { ${write('d')}; ${write('e')}; ${write('f')}; });`,
      ],
      preload: 'require',
      env: {
        PROVENANT_STATE_DIR: path.join(dir, 'state'),
        PROVENANT_JOURNAL_KEY: keyFile,
        PROVENANT_CONFIG: splitConfig,
        OTEL_LOG_LEVEL: 'error',
      },
    });
    mkdirSync(journal, { recursive: true });
    await until(journal, () => readdirSync(journal).some((name) => name.endsWith('.cosigned')));

    // Someone with the log key extends the witnessed tree with records the process never wrote.
    const segments = readdirSync(journal)
      .filter((name) => name.endsWith('.jsonl'))
      .map((name) => path.join(journal, name));
    const witnessed = parseCheckpointText(parseNote(readFileSync(cosignedPathOf(journal), 'utf8')).text);
    const leaves = [...readLeaves(segments, 0, witnessed.size), ...[1, 2, 3, 4, 5].map((i) => leafHash(`forged ${i}`))];
    const text = checkpointText({ origin: witnessed.origin, size: leaves.length, root: rootOf(leaves) });
    const forged = formatNote({ text, signatures: [signNoteText(text, 'provenant/n1/clinic', createPrivateKey(owner.privatePem))] });
    const proof = consistencyProof(witnessed.size, leaves);
    const accepted = await fetch(`${up.url}/add-checkpoint`, {
      method: 'POST',
      body: formatAddCheckpoint({ oldSize: witnessed.size, proof, note: forged }),
    });
    expect(accepted.status).toBe(200);

    const reported = new Promise<void>((resolve) => {
      const check = () => app.stderr.includes('split view') && resolve();
      app.child.stderr!.on('data', check);
      check();
    });
    app.child.stdin!.write('more\n');
    await reported;
    expect(app.stderr).toMatch(new RegExp(`split view of log ${witnessed.origin} at witness ${up.url}: `));
    await app.kill('SIGTERM');
  });

  it('a damaged witness state file stops the witness with a clear error instead of being trusted', async () => {
    const state = tempDir('provenant-witness-');
    writeFileSync(
      path.join(state, 'checkpoints.json'),
      JSON.stringify({ 'provenant/n1/clinic/1-2-abcdef': { size: 'many', root: 'x', note: '' } }),
    );
    const result = await cli('witness', '--listen', '127.0.0.1:0', '--state', state, '--log-key', logKey);
    expect(result.code).toBe(70);
    expect(result.stderr).toContain('the entry for provenant/n1/clinic/1-2-abcdef is not a cosigned checkpoint (damaged state file)');
    expect(result.stdout).not.toMatch(/listening/);
  });
});
