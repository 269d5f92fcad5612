// v8.getHeapSnapshot() hands the whole heap to JS as a stream: the calling context reads
// everything the process has read (as a snapshot written to a file is decided), so a context that
// never read the secret itself still cannot send a snapshot holding it to an unlabelled listener.
// 127.0.0.2 may hold secrets; 127.0.0.3 is unlabelled.
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runNode, stopAll } from '../helpers/spawn';
import { cleanupTempDirs } from '../helpers/tmp';
import { distIndex } from './fixture';
import { secretAndPublicRegions, type Listener } from './listeners';
import { netWorkspace } from './net-fixture';

const SECRET = 'the-heap-held-secret';
const app = path.join(__dirname, 'fixtures', 'heap-snapshot.cjs');

const regions = secretAndPublicRegions();

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

async function snapshotTo(read: 'secret' | 'nothing', to: Listener): Promise<unknown> {
  const { dir, env } = netWorkspace(SECRET, 'public-note');
  const target = JSON.stringify({ host: to.host, port: to.port });
  const result = await runNode({
    args: [app, read, target],
    preload: 'require',
    cwd: dir,
    env: { ...env, PROVENANT_DIST_INDEX: distIndex },
    timeoutMs: 60_000,
  });
  expect(result.code, result.stderr).toBe(0);
  await to.settle();
  return JSON.parse(result.stdout.trim().split('\n').pop() ?? '');
}

describe('v8.getHeapSnapshot()', () => {
  it('after a secret is read anywhere in the process, a clean context sends zero bytes of a snapshot to an unlabelled listener', async () => {
    expect(await snapshotTo('secret', regions.unlabelled)).toEqual({ code: 'ERR_PROVENANCE_DENIED', rule: 'confidentiality' });
    expect(regions.unlabelled.connections).toBe(0);
    expect(regions.unlabelled.received).toBe('');
  });

  it('the allowed twin: the same snapshot goes to a listener that may hold secrets, and holds the secret', async () => {
    const before = regions.secret.received.length;
    expect(await snapshotTo('secret', regions.secret)).toEqual({ sent: true });
    const received = regions.secret.received.slice(before);
    expect(received.startsWith('{"snapshot":')).toBe(true);
    expect(received).toContain(SECRET);
  });

  it('a process that read nothing labelled sends its snapshot to the unlabelled listener', async () => {
    const before = regions.unlabelled.received.length;
    expect(await snapshotTo('nothing', regions.unlabelled)).toEqual({ sent: true });
    expect(regions.unlabelled.received.slice(before).startsWith('{"snapshot":')).toBe(true);
  });
});
