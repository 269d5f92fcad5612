// One identity per file: a labelled file read or written through another name — a symlink,
// /proc/self/fd/N, /proc/self/root/…, a hard link, a FileHandle's numeric fd — is the same file,
// and giving labelled data a new name (link, symlink) is a flow decided like a copy. Each case
// runs a real process under the preload in enforce mode, proves nothing moved, and runs the
// allowed twin.
import { existsSync, linkSync, lstatSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { journalRecords } from '../helpers/journal.js';
import { stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs } from '../helpers/tmp.js';
import { createWorkspace, DENIED, OK, PROTECTED_TEXT, PUBLIC_TEXT, type Workspace } from './files-fixture.js';

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

const denied = (rule: string): object => ({ ...DENIED, rule });

describe('reading a labelled file through another name taints the context', () => {
  const names: [string, (ws: Workspace) => { op: string; path: string }][] = [
    [
      'a symlink',
      (ws) => {
        symlinkSync(ws.abs('secret/a.txt'), ws.abs('out/public/alias.txt'));
        return { op: 'read', path: ws.abs('out/public/alias.txt') };
      },
    ],
    ['/proc/self/fd/N', (ws) => ({ op: 'readThroughProcFd', path: ws.abs('secret/a.txt') })],
    ['/proc/self/root/…', (ws) => ({ op: 'read', path: `/proc/self/root${ws.abs('secret/a.txt')}` })],
  ];
  it.each(names)('%s', async (_name, readStep) => {
    const ws = createWorkspace();
    const read = readStep(ws);
    const results = await ws.steps([
      read,
      { op: 'write', path: ws.abs('out/public/leak.txt') },
      { op: 'write', path: ws.abs('out/secret/kept.txt') },
    ]);
    expect(results).toEqual([{ ok: true, bytes: 20 }, denied('confidentiality'), OK]);
    expect(existsSync(ws.abs('out/public/leak.txt'))).toBe(false);
    // The allowed twin: the derived file records the labelled file under its real name.
    expect(ws.stored('out/secret/kept.txt')?.sources).toEqual([ws.uri('secret/a.txt')]);
    expect(ws.stored('out/secret/kept.txt')?.labels.tags).toEqual(['pii']);
  });
});

describe('hard links share the inode’s provenance', () => {
  it('link() of labelled data is a flow: denied into a public folder (no link made), allowed into a secret one whose reads then carry pii', async () => {
    const ws = createWorkspace();
    const results = await ws.steps([
      { op: 'link', from: ws.abs('secret/a.txt'), to: ws.abs('out/public/sync.txt') },
      { op: 'linkPromise', from: ws.abs('secret/a.txt'), to: ws.abs('out/public/promise.txt') },
      { op: 'linkCallback', from: ws.abs('secret/a.txt'), to: ws.abs('out/public/callback.txt') },
      { op: 'link', from: ws.abs('secret/a.txt'), to: ws.abs('out/secret/h.txt') },
    ]);
    expect(results).toEqual([denied('confidentiality'), denied('confidentiality'), denied('confidentiality'), OK]);
    for (const name of ['sync', 'promise', 'callback']) expect(existsSync(ws.abs(`out/public/${name}.txt`))).toBe(false);

    // A later process reads the link: the pii tag (not in out/secret's config labels) comes with it.
    const later = await ws.steps([
      { op: 'read', path: ws.abs('out/secret/h.txt') },
      { op: 'write', path: ws.abs('out/shared/leak.txt') },
      { op: 'write', path: ws.abs('out/secret/twin.txt') },
    ]);
    expect(later).toEqual([{ ok: true, bytes: 20 }, denied('no-pii-in-shared'), OK]);
    expect(existsSync(ws.abs('out/shared/leak.txt'))).toBe(false);
  });

  it('a hard link made before start (`ln`, no instrumented process ever met either name) taints like its labelled name', async () => {
    const ws = createWorkspace();
    linkSync(ws.abs('secret/a.txt'), ws.abs('out/public/outside.txt'));
    const results = await ws.steps([
      { op: 'read', path: ws.abs('out/public/outside.txt') },
      { op: 'write', path: ws.abs('out/public/leak.txt') },
      { op: 'write', path: ws.abs('out/secret/twin.txt') },
    ]);
    expect(results).toEqual([{ ok: true, bytes: 20 }, denied('confidentiality'), OK]);
    expect(existsSync(ws.abs('out/public/leak.txt'))).toBe(false);
    expect(ws.stored('out/secret/twin.txt')?.labels.tags).toEqual(['pii']);
  });

  it('the allowed twin: a hard link made before start to an unlabelled file carries nothing', async () => {
    const ws = createWorkspace();
    writeFileSync(ws.abs('out/public/plain.txt'), 'nothing secret\n');
    linkSync(ws.abs('out/public/plain.txt'), ws.abs('out/public/plain-link.txt'));
    const results = await ws.steps([
      { op: 'read', path: ws.abs('out/public/plain-link.txt') },
      { op: 'write', path: ws.abs('out/public/copy.txt') },
    ]);
    expect(results).toEqual([{ ok: true, bytes: 15 }, OK]);
  });

  it('writing a protected (integrity high) file through a hard link is checked against its labels', async () => {
    const ws = createWorkspace();
    const results = await ws.steps([
      // Naming a protected file is allowed (no data moves to it); the link remembers both names.
      { op: 'link', from: ws.abs('protected/p.txt'), to: ws.abs('out/public/ph.txt') },
      // Untrusted-integrity data is all a write to it needs… then it is written through the link.
      { op: 'write', path: ws.abs('out/public/ph.txt') },
      { op: 'read', path: ws.abs('out/public/input.txt') },
      { op: 'write', path: ws.abs('out/public/ph.txt'), data: 'tampered\n' },
    ]);
    expect(results).toEqual([OK, OK, { ok: true, bytes: 14 }, denied('integrity')]);
    expect(ws.read('protected/p.txt')).toBe('derived\n');
  });
});

describe('symlinks', () => {
  it('symlink() to labelled data is a flow: denied into a public folder, allowed into a secret one', async () => {
    const ws = createWorkspace();
    const results = await ws.steps([
      { op: 'symlink', target: ws.abs('secret/a.txt'), path: ws.abs('out/public/s.txt') },
      { op: 'symlinkPromise', target: '../../secret/a.txt', path: ws.abs('out/public/relative.txt') },
      { op: 'symlinkToUrl', target: ws.abs('secret/a.txt'), path: ws.abs('out/public/url.txt') },
      { op: 'symlink', target: ws.abs('secret/a.txt'), path: ws.abs('out/secret/s.txt') },
    ]);
    expect(results).toEqual([denied('confidentiality'), denied('confidentiality'), denied('confidentiality'), OK]);
    expect(() => lstatSync(ws.abs('out/public/url.txt'))).toThrow(/ENOENT/);
    expect(() => lstatSync(ws.abs('out/public/s.txt'))).toThrow(/ENOENT/);
    expect(() => lstatSync(ws.abs('out/public/relative.txt'))).toThrow(/ENOENT/);
    expect(lstatSync(ws.abs('out/secret/s.txt')).isSymbolicLink()).toBe(true);
  });

  it('writing a protected file through a symlink is checked against the target’s labels', async () => {
    const ws = createWorkspace();
    symlinkSync(ws.abs('protected/p.txt'), ws.abs('out/public/plink.txt'));
    const results = await ws.steps([
      { op: 'read', path: ws.abs('out/public/input.txt') },
      { op: 'write', path: ws.abs('out/public/plink.txt'), data: 'tampered\n' },
    ]);
    expect(results).toEqual([{ ok: true, bytes: 14 }, denied('integrity')]);
    expect(ws.read('protected/p.txt')).toBe(PROTECTED_TEXT);
    // The allowed twin: data of high integrity (here: none read) may be written through it.
    expect(await ws.steps([{ op: 'write', path: ws.abs('out/public/plink.txt'), data: 'dose table v2\n' }])).toEqual([OK]);
    expect(ws.read('protected/p.txt')).toBe('dose table v2\n');
  });
});

describe('folders holding symlinks (node-tar extracts `a/b/up -> ../..`)', () => {
  /** tree/f.txt, tree/a/secret-alias -> ../../secret, and two links back up the tree: a cycle that branches. */
  function treeWithLinkCycle(ws: Workspace): void {
    mkdirSync(ws.abs('tree/a/b'), { recursive: true });
    writeFileSync(ws.abs('tree/f.txt'), PUBLIC_TEXT);
    symlinkSync('../../secret', ws.abs('tree/a/secret-alias'));
    symlinkSync('../..', ws.abs('tree/a/b/up'));
    symlinkSync('../../a', ws.abs('tree/a/b/again'));
  }

  it('a symlink to such a folder decides each file it reaches once: denied into a public folder for the secret file behind a nested link, allowed into a secret one', async () => {
    const ws = createWorkspace();
    treeWithLinkCycle(ws);
    const results = await ws.steps([
      { op: 'symlink', target: ws.abs('tree'), path: ws.abs('out/public/tree') },
      { op: 'symlink', target: ws.abs('tree'), path: ws.abs('out/secret/tree') },
    ]);
    expect(results).toEqual([denied('confidentiality'), OK]);
    expect(() => lstatSync(ws.abs('out/public/tree'))).toThrow(/ENOENT/);
    expect(lstatSync(ws.abs('out/secret/tree')).isSymbolicLink()).toBe(true);
    // Each real file once, under its shortest name: following the cycle made this walk exponential.
    const allowed = journalRecords(ws.stateDir).filter(
      (record) => record.op === 'copy' && record.decision === 'allow' && record.resource.startsWith(ws.uri('out/secret/tree/')),
    );
    expect(allowed.map((record) => record.resource).sort()).toEqual([
      ws.uri('out/secret/tree/a/secret-alias/a.txt'),
      ws.uri('out/secret/tree/f.txt'),
    ]);
  });

  it('removing such a folder keeps the provenance of the files its links name', async () => {
    const ws = createWorkspace();
    expect(
      await ws.steps([
        { op: 'read', path: ws.abs('secret/a.txt') },
        { op: 'write', path: ws.abs('out/secret/kept.txt') },
      ]),
    ).toEqual([{ ok: true, bytes: 20 }, OK]);
    mkdirSync(ws.abs('out/gone'));
    symlinkSync('../secret', ws.abs('out/gone/up'));
    expect(await ws.steps([{ op: 'rmTree', path: ws.abs('out/gone') }])).toEqual([OK]);
    expect(existsSync(ws.abs('out/gone'))).toBe(false);
    expect(ws.stored('out/secret/kept.txt')?.sources).toEqual([ws.uri('secret/a.txt')]);
    // A later read of the kept file still carries pii: it may not reach a public file.
    const later = await ws.steps([
      { op: 'read', path: ws.abs('out/secret/kept.txt') },
      { op: 'write', path: ws.abs('out/public/leak.txt') },
    ]);
    expect(later).toEqual([{ ok: true, bytes: 8 }, denied('confidentiality')]);
    expect(existsSync(ws.abs('out/public/leak.txt'))).toBe(false);
  });
});

describe("a FileHandle's numeric fd with the fd-level API is the handle's file", () => {
  it('fs.readSync(handle.fd) taints; fs.writeSync(handle.fd) is decided', async () => {
    const ws = createWorkspace();
    const results = await ws.steps([
      { op: 'openHandle', path: ws.abs('out/public/input.txt'), flags: 'r+', as: 'public' },
      { op: 'openHandle', path: ws.abs('secret/a.txt'), as: 'secret' },
      { op: 'writeHandleFd', as: 'public', data: 'opening times\n' },
      { op: 'readHandleFd', as: 'secret' },
      { op: 'writeHandleFd', as: 'public', data: 'patient 7: diab\n' },
      { op: 'closeHandle', as: 'public' },
      { op: 'closeHandle', as: 'secret' },
    ]);
    expect(results).toEqual([OK, OK, { ok: true, bytes: 14 }, { ok: true, bytes: 20 }, denied('confidentiality'), OK, OK]);
    expect(ws.read('out/public/input.txt')).toBe('opening times\n');
  });
});
