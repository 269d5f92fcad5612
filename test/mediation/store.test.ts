// A store that never forgets: atomic rewrites keep a file's provenance, a stored level this
// process does not know keeps the config labels and counts as the top level, a full disk never
// turns into a later false allow (tiny tmpfs), and a 0-byte journal segment left by a start on
// a full disk does not fail `provenant verify`. Real processes under the preload, enforce mode.
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runNode, stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { createWorkspace, DENIED, OK, type Step, type Workspace } from './files-fixture.js';

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

const denied = (rule: string): object => ({ ...DENIED, rule });
const cli = path.join(repoRoot, 'dist', 'cli', 'main.js');

describe('atomic rewrites keep provenance', () => {
  it('write tmp + rename over f, twice, in one context: another process may not send f’s pii where the rule forbids', async () => {
    const ws = createWorkspace();
    const rewrite: Step[] = [
      { op: 'write', path: ws.abs('out/secret/f.tmp') },
      { op: 'rename', from: ws.abs('out/secret/f.tmp'), to: ws.abs('out/secret/f.txt') },
    ];
    const results = await ws.steps([{ op: 'read', path: ws.abs('secret/a.txt') }, ...rewrite, ...rewrite, ...rewrite]);
    expect(results).toEqual([{ ok: true, bytes: 20 }, OK, OK, OK, OK, OK, OK]);
    expect(ws.stored('out/secret/f.txt')?.labels.tags).toEqual(['pii']);
    const later = await ws.steps([
      { op: 'read', path: ws.abs('out/secret/f.txt') },
      { op: 'write', path: ws.abs('out/shared/f.txt') },
      { op: 'write', path: ws.abs('out/secret/twin.txt') },
    ]);
    expect(later).toEqual([{ ok: true, bytes: 8 }, denied('no-pii-in-shared'), OK]);
    expect(existsSync(ws.abs('out/shared/f.txt'))).toBe(false);
  });

  it('write, unlink, write again in one context: the new file has the provenance', async () => {
    const ws = createWorkspace();
    const results = await ws.steps([
      { op: 'read', path: ws.abs('secret/a.txt') },
      { op: 'write', path: ws.abs('out/secret/g.txt') },
      { op: 'unlink', path: ws.abs('out/secret/g.txt') },
      { op: 'write', path: ws.abs('out/secret/g.txt') },
    ]);
    expect(results).toEqual([{ ok: true, bytes: 20 }, OK, OK, OK]);
    const later = await ws.steps([
      { op: 'read', path: ws.abs('out/secret/g.txt') },
      { op: 'write', path: ws.abs('out/shared/g.txt') },
    ]);
    expect(later).toEqual([{ ok: true, bytes: 8 }, denied('no-pii-in-shared')]);
    expect(existsSync(ws.abs('out/shared/g.txt'))).toBe(false);
  });
});

describe('a stored level this process does not know', () => {
  /** A record for `relative` as a process with other `levels` (or a tampering hand) would leave it. */
  function forgeRecord(ws: Workspace, relative: string, labels: object): void {
    const stat = statSync(ws.abs(relative), { bigint: true });
    const db = new DatabaseSync(path.join(ws.stateDir, 'provenance.db'));
    const set = db
      .prepare('INSERT INTO provenance_sets (digest, parent, added, labels) VALUES (randomblob(32), NULL, ?, ?) RETURNING id')
      .get(JSON.stringify([`file://other-node/${relative}`]), JSON.stringify(labels)) as { id: number };
    db.prepare('INSERT OR REPLACE INTO file_records (path, set_id, updated_at) VALUES (?, ?, 0)').run(
      `inode:${stat.dev}:${stat.ino}`,
      set.id,
    );
    db.close();
  }

  it('keeps the file’s config labels, counts as the top level, and warns once', async () => {
    const ws = createWorkspace();
    // A file flow opens (creates) the store: it is opened on the first one.
    expect(await ws.steps([{ op: 'read', path: ws.abs('out/public/input.txt') }])).toEqual([
      { ok: true, bytes: expect.any(Number) as number },
    ]);
    forgeRecord(ws, 'secret/a.txt', { confidentiality: 'top-secret', integrity: 'high', tags: [], locations: [] });
    forgeRecord(ws, 'out/public/input.txt', { confidentiality: 'top-secret', integrity: 'high', tags: [], locations: [] });
    const secret = await ws.steps(
      [
        { op: 'read', path: ws.abs('secret/a.txt') },
        { op: 'write', path: ws.abs('out/shared/leak.txt') },
        { op: 'write', path: ws.abs('out/secret/twin.txt') },
      ],
      { OTEL_LOG_LEVEL: 'warn' },
    );
    // The config's pii tag still applies (the rule denies); the unknown level reads as secret (the twin is allowed).
    expect(secret).toEqual([{ ok: true, bytes: 20 }, denied('no-pii-in-shared'), OK]);
    expect(existsSync(ws.abs('out/shared/leak.txt'))).toBe(false);

    const result = await ws.run(
      [
        path.join(__dirname, 'apps', 'steps.cjs'),
        JSON.stringify([
          { op: 'read', path: ws.abs('out/public/input.txt') },
          { op: 'read', path: ws.abs('secret/a.txt') },
          { op: 'write', path: ws.abs('out/public/leak.txt') },
        ]),
      ],
      { OTEL_LOG_LEVEL: 'warn' },
    );
    expect(JSON.parse(result.stdout)).toEqual([{ ok: true, bytes: 14 }, { ok: true, bytes: 20 }, denied('confidentiality')]);
    expect(result.stderr.match(/level "top-secret"/g)).toHaveLength(1);
    expect(existsSync(ws.abs('out/public/leak.txt'))).toBe(false);
  });
});

const isRoot = process.getuid?.() === 0;

/** Once the app has reached `signal` (it writes `<signal>.ready`), do `act` and let it go on. */
async function answer(signal: string, act: () => void): Promise<void> {
  while (!existsSync(`${signal}.ready`)) await new Promise((resolve) => setTimeout(resolve, 10));
  act();
  writeFileSync(`${signal}.go`, '');
}

/** Write `file` until the file system holding it has no space left. */
function fillUp(file: string): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(16 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
}

describe('a full disk', () => {
  it.skipIf(!isRoot)(
    '(needs root to mount a tmpfs) labelled data whose provenance cannot be saved is not written; unlabelled data is, and its provenance is kept in memory',
    async () => {
      const stateDir = tempDir('provenant-full-');
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', stateDir]);
      try {
        const ws = createWorkspace(stateDir);
        const signal = (name: string): string => ws.abs(`out/public/${name}`);
        const running = ws.steps([
          { op: 'handshake', signal: signal('full') },
          { op: 'read', path: ws.abs('out/public/input.txt') },
          { op: 'write', path: ws.abs('out/public/copy.txt') },
          { op: 'readInFreshContext', path: ws.abs('out/public/copy.txt') },
          { op: 'read', path: ws.abs('secret/a.txt') },
          { op: 'write', path: ws.abs('out/secret/x.txt') },
          // Space again: the next write persists, and the journal counts the writes that could not.
          { op: 'handshake', signal: signal('freed') },
          // The journal retries a failed disk at most once a second.
          { op: 'sleep', ms: '1100' },
          { op: 'write', path: ws.abs('out/secret/y.txt') },
        ]);
        await answer(signal('full'), () => fillUp(path.join(stateDir, 'filler')));
        await answer(signal('freed'), () => unlinkSync(path.join(stateDir, 'filler')));
        const results = await running;
        expect(results).toEqual([
          OK,
          { ok: true, bytes: 14 },
          OK,
          { ok: true, sources: [ws.uri('out/public/copy.txt'), ws.uri('out/public/input.txt')] },
          { ok: true, bytes: 20 },
          denied('store-unavailable'),
          OK,
          OK,
          OK,
        ]);
        expect(existsSync(ws.abs('out/secret/x.txt'))).toBe(false);
        expect(ws.stored('out/secret/y.txt')?.labels.tags).toEqual(['pii']);
        const records = readdirSync(path.join(stateDir, 'journal')).flatMap((segment) =>
          readFileSync(path.join(stateDir, 'journal', segment), 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line) as { action?: string; attributes?: Record<string, unknown> }),
        );
        expect(records.filter((record) => record.action === 'store-unavailable').map((record) => record.attributes)).toEqual([
          { 'provenant.unpersisted_writes': 2 },
        ]);

        // A process started on a full disk: its journal cannot even hold a header, and verify still passes.
        fillUp(path.join(stateDir, 'filler'));
        expect(await ws.steps([{ op: 'read', path: ws.abs('secret/a.txt') }])).toEqual([{ ok: true, bytes: 20 }]);
        const verify = await runNode({ args: [cli, 'verify', '--state', stateDir] });
        expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      } finally {
        execFileSync('umount', [stateDir]);
      }
    },
  );
});

it('provenant verify passes a 0-byte segment with a warning', async () => {
  const state = tempDir('provenant-empty-segment-');
  mkdirSync(path.join(state, 'journal'));
  writeFileSync(path.join(state, 'journal', 'svc-1-1700000000000-abcd-000000.jsonl'), '');
  expect(readdirSync(path.join(state, 'journal'))).toHaveLength(1);
  const verify = await runNode({ args: [cli, 'verify', '--state', state] });
  expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  expect(verify.stdout + verify.stderr).toContain('empty segment (0 bytes)');
});

describe('worker threads and the store', () => {
  it('a worker opens the store on its first file flow: a file it wrote keeps its pii for the next worker that reads it', async () => {
    const ws = createWorkspace();
    const result = await ws.run([path.join(__dirname, 'apps', 'worker-store.cjs'), ws.root]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ a: 'written', b: { shared: denied('no-pii-in-shared'), twin: 'written' } });
    expect(ws.stored('out/secret/w.txt')?.labels.tags).toEqual(['pii']);
    expect(existsSync(ws.abs('out/shared/w.txt'))).toBe(false);
    expect(ws.read('out/secret/twin.txt')).toBe(ws.read('secret/a.txt'));
  });
});
