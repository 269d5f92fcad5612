// Dumps Node writes by itself once armed (process.report triggers, --heapsnapshot-signal) are
// written through the decided writers, with everything the process has read; the ones written
// natively when JS cannot run (reportOnFatalError, the near-heap-limit snapshot) cannot be armed
// in enforce mode.
import { readdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs } from '../helpers/tmp.js';
import { outcome, workspace, type Workspace } from './fixture.js';

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

const files = (ws: Workspace, dir: string, suffix: string): string[] => readdirSync(ws.abs(dir)).filter((name) => name.endsWith(suffix));

describe('reports Node writes on a trigger', () => {
  it.each([
    ['uncaught', 'reportOnUncaughtException'],
    ['signal', 'reportOnSignal'],
  ])('%s: a report of a process that read a secret is not written to a public folder; it is to a secret one', async (kind) => {
    const ws = workspace();
    const denied = await ws.run('armed-dumps.cjs', { args: [kind, 'secret', ws.abs('out/public')] });
    expect(files(ws, 'out/public', '.json')).toEqual([]);
    // The allowed twins: the same data into a secret folder, and a clean process into a public one.
    const secretDir = await ws.run('armed-dumps.cjs', { args: [kind, 'secret', ws.abs('out/secret')] });
    expect(files(ws, 'out/secret', '.json'), secretDir.stderr).toHaveLength(1);
    const clean = await ws.run('armed-dumps.cjs', { args: [kind, 'public', ws.abs('out/public')] });
    expect(files(ws, 'out/public', '.json'), clean.stderr).toHaveLength(1);
    if (kind === 'uncaught') expect([denied.code, secretDir.code, clean.code]).toEqual([1, 1, 1]);
    else expect(outcome(clean)).toEqual({ reportOnSignal: true });
  });
});

describe('--heapsnapshot-signal', () => {
  it('the snapshot of a process that read a secret is not written to an unlabelled folder; a clean one is', async () => {
    const ws = workspace();
    const env = { NODE_OPTIONS: '--heapsnapshot-signal=SIGUSR2' };
    const denied = await ws.run('armed-dumps.cjs', { args: ['heap-signal', 'secret', ws.root], env });
    expect(denied.code, denied.stderr).toBe(0);
    expect(files(ws, '.', '.heapsnapshot')).toEqual([]);
    const clean = await ws.run('armed-dumps.cjs', { args: ['heap-signal', 'public', ws.root], env });
    expect(clean.code, clean.stderr).toBe(0);
    expect(files(ws, '.', '.heapsnapshot')).toHaveLength(1);
  });
});

describe('dumps written natively when JS cannot run', () => {
  it('reportOnFatalError and setHeapSnapshotNearHeapLimit cannot be armed in enforce mode', async () => {
    const ws = workspace();
    const result = await ws.run('armed-dumps.cjs', { args: ['native', 'public', ws.abs('out/public')] });
    const refused = { code: 'ERR_PROVENANCE_DENIED', rule: 'native-dump' };
    expect(outcome(result)).toEqual({ fatal: refused, fatalNow: false, nearLimit: refused });
    // The allowed twin: in audit mode both are armed as the app asked.
    const audit = await ws.run('armed-dumps.cjs', { args: ['native', 'public', ws.abs('out/public')], env: { PROVENANT_MODE: 'audit' } });
    expect(outcome(audit)).toEqual({ fatal: 'armed', fatalNow: true, nearLimit: 'armed' });
  });

  it('--heapsnapshot-near-heap-limit, which JS cannot switch off, stops the start in enforce mode; audit mode runs', async () => {
    const ws = workspace();
    const env = { NODE_OPTIONS: '--heapsnapshot-near-heap-limit=1' };
    const refused = await ws.run('armed-dumps.cjs', { args: ['native', 'public', ws.abs('out/public')], env });
    expect(refused.code).toBe(78);
    expect(refused.stderr).toContain('--heapsnapshot-near-heap-limit');
    expect(refused.stdout).toBe('');
    const audit = await ws.run('armed-dumps.cjs', {
      args: ['native', 'public', ws.abs('out/public')],
      env: { ...env, PROVENANT_MODE: 'audit' },
    });
    expect(audit.code, audit.stderr).toBe(0);
    expect(outcome(audit)).toMatchObject({ fatal: 'armed' });
  });

  it('--heapsnapshot-near-heap-limit=0 (the default, which node --test passes to every test file) arms nothing and starts', async () => {
    const ws = workspace();
    const result = await ws.run('armed-dumps.cjs', {
      args: ['native', 'public', ws.abs('out/public')],
      env: { NODE_OPTIONS: '--heapsnapshot-near-heap-limit=0' },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    expect(outcome(result)).toEqual({
      fatal: { code: 'ERR_PROVENANCE_DENIED', rule: 'native-dump' },
      fatalNow: false,
      nearLimit: { code: 'ERR_PROVENANCE_DENIED', rule: 'native-dump' },
    });
  });
});
