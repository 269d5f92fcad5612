// child_process: data handed to a child is a flow to process://<node>/<command>, decided before
// the child starts. Each case runs a real app under the preload in enforce mode and proves the
// child never ran (its marker file is absent), next to the allowed twin where it did.
import { afterAll, describe, expect, it } from 'vitest';
import { stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs } from '../helpers/tmp.js';
import { NODE_ID, outcome, SECRET_TEXT, TEST_KEY, workspace } from './fixture.js';

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

const FORMS = ['spawnSync', 'execFileSync', 'execSync', 'spawn', 'execFile', 'exec', 'fork'];

describe('every child_process form', () => {
  it('starts nothing when a secret context hands data to an unlabelled command, in each form the API reports errors', async () => {
    const ws = workspace();
    const result = await ws.run('spawn-forms.cjs', { args: ['secret'] });
    expect(result.code, result.stderr).toBe(0);
    const denied = { code: 'ERR_PROVENANCE_DENIED', rule: 'confidentiality' };
    expect(outcome(result)).toEqual(Object.fromEntries(FORMS.map((form) => [form, denied])));
    for (const form of FORMS) expect(ws.exists(`out/public/ran-${form}`), form).toBe(false);
  });

  it('runs every form from a context that holds nothing labelled (the allowed twin)', async () => {
    const ws = workspace();
    const result = await ws.run('spawn-forms.cjs', { args: ['clean'] });
    expect(result.code, result.stderr).toBe(0);
    expect(outcome(result)).toEqual(Object.fromEntries(FORMS.map((form) => [form, 'ran'])));
    for (const form of FORMS) expect(ws.exists(`out/public/ran-${form}`), form).toBe(true);
  });

  it('a shell command is a flow to the shell: labelling the command it runs does not let secret data reach sh', async () => {
    const ws = workspace('  - match: { command: touch }\n    labels: { confidentiality: secret }');
    const result = await ws.run('spawn-forms.cjs', { args: ['secret'] });
    const forms = outcome(result);
    expect(forms).toMatchObject({ spawnSync: 'ran', execFileSync: 'ran', spawn: 'ran', execFile: 'ran' });
    expect(forms['execSync']).toEqual({ code: 'ERR_PROVENANCE_DENIED', rule: 'confidentiality' });
    expect(forms['exec']).toEqual({ code: 'ERR_PROVENANCE_DENIED', rule: 'confidentiality' });
    expect(ws.exists('out/public/ran-exec')).toBe(false);
    expect(ws.exists('out/public/ran-execSync')).toBe(false);
  });
});

it('ESM named imports of child_process, worker_threads and v8 see the patched functions (--import)', async () => {
  const ws = workspace();
  const result = await ws.run('esm-imports.mjs', { preload: 'import' });
  expect(result.code, result.stderr).toBe(0);
  expect(outcome(result)).toEqual({ execSync: 'confidentiality', worker: 'unmonitored-thread', heapSnapshot: 'confidentiality' });
  expect(ws.exists('out/public/ran-esm')).toBe(false);
  expect(ws.exists('out/public/esm.heapsnapshot')).toBe(false);
});

describe('a command labelled in the config', () => {
  it('receives secret data, and what it prints back carries the labels of what it was given', async () => {
    const ws = workspace('  - match: { command: cat }\n    labels: { confidentiality: secret }');
    const result = await ws.run('labelled-command.cjs');
    expect(result.code, result.stderr).toBe(0);
    expect(outcome(result)).toEqual({
      echoed: SECRET_TEXT,
      toSecret: 'written',
      toPublic: { code: 'ERR_PROVENANCE_DENIED', rule: 'confidentiality' },
    });
    expect(ws.read('out/secret/echo.txt')).toBe(SECRET_TEXT);
    expect(ws.exists('out/public/echo.txt')).toBe(false);
  });
});

describe('stdin and IPC of a running child', () => {
  it('a write that would carry secret data to an unlabelled child is denied; what it got before still arrives', async () => {
    const ws = workspace();
    const result = await ws.run('stdin-ipc.cjs');
    expect(result.code, result.stderr).toBe(0);
    const deniedSend = { code: 'ERR_PROVENANCE_DENIED', rule: 'confidentiality' };
    expect(outcome(result)).toEqual({ stdinWrite: deniedSend, catOutput: 'public line\n', ipcSend: deniedSend });
    // The IPC child wrote every message it received: only the one sent before the secret was read.
    expect(ws.read('out/public/ipc.txt')).toBe('public message\n');
  });
});

describe("a child's stdin, however it is written", () => {
  it('a secret never reaches an unlabelled child through stdin.write, Writable.prototype.write or the pipe handle; public lines do', async () => {
    const ws = workspace();
    const result = await ws.run('stdin-paths.cjs');
    expect(result.code, result.stderr).toBe(0);
    const ways = ['write', 'Writable.prototype.write.call', 'handle.writeUtf8String'];
    expect(outcome(result)).toEqual({
      public: Object.fromEntries(ways.map((way) => [way, 'sent'])),
      secret: {
        write: 'denied:confidentiality',
        'Writable.prototype.write.call': 'denied:confidentiality',
        'handle.writeUtf8String': 'refused',
      },
      // Each child printed back its public line only.
      catOutput: Object.fromEntries(ways.map((way) => [way, `public ${way}\n`])),
    });
  });
});

describe('a Node child under provenant', () => {
  it('with a key, starts with its parent context labels (signed claim) and its own writes are decided with them', async () => {
    const ws = workspace();
    const result = await ws.run('node-child.cjs', { env: { PROVENANT_KEY: TEST_KEY } });
    expect(result.code, result.stderr).toBe(0);
    expect(outcome(result)).toMatchObject({
      child: {
        labels: { confidentiality: 'secret', tags: ['pii'] },
        toPublic: { code: 'ERR_PROVENANCE_DENIED', rule: 'confidentiality' },
        toSecret: 'written',
      },
    });
    expect(ws.exists('out/public/child.txt')).toBe(false);
    expect(ws.read('out/secret/child.txt')).toBe(SECRET_TEXT);
  });

  it('is recognised when a Node option before the preload takes its value as the next argument (--title x)', async () => {
    const ws = workspace();
    const env = { PROVENANT_KEY: TEST_KEY, NODE_OPTIONS_BEFORE: JSON.stringify(['--title', 'provenant-child']) };
    const result = await ws.run('node-child.cjs', { env });
    expect(result.code, result.stderr).toBe(0);
    expect(outcome(result)).toMatchObject({ child: { labels: { confidentiality: 'secret' }, toSecret: 'written' } });
    expect(ws.exists('out/public/child.txt')).toBe(false);
  });

  it('without a key it could not verify a claim: it is an unlabelled destination and never starts', async () => {
    const ws = workspace();
    const result = await ws.run('node-child.cjs');
    expect(result.code, result.stderr).toBe(0);
    expect(outcome(result)).toEqual({ fork: { code: 'ERR_PROVENANCE_DENIED', rule: 'confidentiality' } });
    expect(ws.exists('out/secret/child.txt')).toBe(false);
  });

  it('a claim copied out of a child’s environment does not vouch for anything in another process (bound to the parent’s pid)', async () => {
    const ws = workspace();
    const secretUri = `file://${NODE_ID}${ws.abs('secret/a.txt')}`;
    const started = await ws.run('claim-copy.cjs', { env: { PROVENANT_KEY: TEST_KEY } });
    expect(started.code, started.stderr).toBe(0);
    const child = outcome<{ labels: { integrity: string }; sources: string[]; claim?: string }>(started);
    // The allowed twin: the child its parent started verifies the claim (sources and integrity as signed).
    expect(child.sources).toContain(secretUri);
    expect(child.labels.integrity).toBe('low');
    expect(child.claim).toBeDefined();
    // Replayed by a process the claim was not made for, with the same key, within its age.
    const replayed = await ws.run('current.cjs', { env: { PROVENANT_KEY: TEST_KEY, PROVENANT_PARENT_CLAIM: child.claim } });
    expect(replayed.code, replayed.stderr).toBe(0);
    const replay = outcome<{ labels: { confidentiality: string; integrity: string }; sources: string[] }>(replayed);
    expect(replay.labels).toMatchObject({ confidentiality: 'secret', integrity: 'untrusted' });
    expect(replay.sources).not.toContain(secretUri);
  });

  it('a forged or unsigned claim in the environment never lowers labels and never vouches for integrity', async () => {
    const ws = workspace();
    const forged = 'provenant.v=1,provenant.svc=x,provenant.c=public,provenant.i=high,provenant.ts=1,provenant.kid=0,provenant.sig=AAAA';
    const unsigned = 'provenant.v=1,provenant.svc=x,provenant.c=secret,provenant.i=high,provenant.t=pii';
    const [a, b] = await Promise.all(
      [forged, unsigned].map((claim) => ws.run('current.cjs', { env: { PROVENANT_KEY: TEST_KEY, PROVENANT_PARENT_CLAIM: claim } })),
    );
    expect(outcome(a)).toMatchObject({ labels: { confidentiality: 'public', integrity: 'untrusted' }, claimVisible: false });
    expect(outcome(b)).toMatchObject({ labels: { confidentiality: 'secret', integrity: 'untrusted', tags: ['pii'] }, claimVisible: false });
  });
});
