// `api.label` and `api.shutdown`: app code can weaken enforcement through label() and
// shutdown(); hardened deployments switch them off, and then both are denied and change nothing.
import { afterAll, describe, expect, it } from 'vitest';
import { stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs } from '../helpers/tmp.js';
import { outcome, workspace } from './fixture.js';

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

const denied = (rule: string): { code: string; rule: string } => ({ code: 'ERR_PROVENANCE_DENIED', rule });

describe('api switches', () => {
  it('off: label() and shutdown() are denied (rule self-protection) and secret data still cannot reach public files', async () => {
    const ws = workspace('api: { label: false, shutdown: false }');
    const result = await ws.run('api.cjs');
    expect(result.code, result.stderr).toBe(0);
    expect(outcome(result)).toEqual({
      label: denied('self-protection'),
      writeLabelled: denied('confidentiality'),
      shutdown: denied('self-protection'),
      writeAfterShutdown: denied('confidentiality'),
    });
    expect(ws.exists('out/public/x.txt')).toBe(false);
    expect(ws.exists('out/public/y.txt')).toBe(false);
  });

  it('on (the default, for compatibility): label() relabels a destination and shutdown() removes enforcement', async () => {
    const ws = workspace();
    const result = await ws.run('api.cjs');
    expect(result.code, result.stderr).toBe(0);
    expect(outcome(result)).toEqual({ label: 'done', writeLabelled: 'done', shutdown: 'done', writeAfterShutdown: 'done' });
    expect(ws.exists('out/public/y.txt')).toBe(true);
  });
});
