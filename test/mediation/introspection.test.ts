// Ways beneath provenant from inside the process, tried as an attacker: an inspector session
// reaching a locked write's original through its closure ([[Scopes]]), Node's raw inspector
// connection, the inspector's server (inspector.open, SIGUSR1), V8's natives syntax, and the
// command-line options that give the same (--expose-internals, --allow-natives-syntax,
// --inspect). Enforce mode refuses each (the listener receives nothing, the app never runs);
// audit mode is the twin that shows each try is real, and that debugging an app there still works.
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runNode, stopAll, type RunResult } from '../helpers/spawn.js';
import { cleanupTempDirs } from '../helpers/tmp.js';
import { appsDir, distIndex, outcome, SECRET_TEXT, workspace, type Workspace } from './fixture.js';

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

const REFUSED = 'denied:introspection';
const MODES = { enforce: { PROVENANT_MODE: 'enforce' }, audit: { PROVENANT_MODE: 'audit' } };

describe('inside the process, at run time', () => {
  it('an inspector session reaches no original: the secret never reaches the listener; a CPU profile still works', async () => {
    const ws = workspace();
    const enforced = await ws.run('introspection.cjs', { args: ['session'] });
    expect(enforced.code, enforced.stderr).toBe(0);
    expect(outcome(enforced)).toEqual({ scopes: REFUSED, binding: 'absent', open: REFUSED, profile: 'profiled', received: '' });
    const audited = await ws.run('introspection.cjs', { args: ['session'], env: MODES.audit });
    expect(audited.code, audited.stderr).toBe(0);
    expect(outcome(audited)).toEqual({
      scopes: 'wrote with the original',
      binding: 'evaluated',
      open: 'opened',
      profile: 'profiled',
      received: SECRET_TEXT,
    });
  });

  it("SIGUSR1 does not start the inspector's server in enforce mode; in audit mode it does", async () => {
    const ws = workspace();
    const enforced = await ws.run('introspection.cjs', { args: ['signal'] });
    expect(enforced.code, enforced.stderr).toBe(0);
    expect(outcome(enforced)).toEqual({ listeners: 1, opened: false });
    const audited = await ws.run('introspection.cjs', { args: ['signal'], env: MODES.audit });
    expect(audited.code, audited.stderr).toBe(0);
    expect(outcome(audited)).toEqual({ listeners: 0, opened: true });
  });

  it("v8.setFlagsFromString cannot turn V8's natives syntax on in enforce mode; in audit mode it can", async () => {
    const ws = workspace();
    const enforced = await ws.run('introspection.cjs', { args: ['natives'] });
    expect(outcome(enforced)).toEqual({ set: REFUSED, compiles: false });
    const audited = await ws.run('introspection.cjs', { args: ['natives'], env: MODES.audit });
    expect(outcome(audited)).toEqual({ set: 'set', compiles: true });
  });
});

/** touch.cjs, which creates out/public/ran, started with `flags` before it. */
function startWith(ws: Workspace, flags: string[], mode: keyof typeof MODES): Promise<RunResult> {
  return runNode({
    args: [...flags, path.join(appsDir, 'touch.cjs'), ws.abs('out/public/ran')],
    cwd: ws.root,
    preload: 'require',
    env: { PROVENANT_CONFIG: ws.config, PROVENANT_STATE_DIR: ws.stateDir, PROVENANT_DIST_INDEX: distIndex, ...MODES[mode] },
  });
}

describe('options that open the same ways from the start', () => {
  for (const [flags, named] of [
    [['--expose-internals'], '--expose-internals'],
    [['--expose_internals'], '--expose-internals'],
    [['--allow-natives-syntax'], '--allow-natives-syntax'],
    [['--inspect=127.0.0.1:0'], 'the inspector is open'],
  ] as const) {
    it(`${flags.join(' ')}: enforce mode refuses to start (exit 78, one line, the app never runs); audit mode runs it`, async () => {
      const ws = workspace();
      const refused = await startWith(ws, [...flags], 'enforce');
      expect(refused.code).toBe(78);
      const provenantLines = refused.stderr.split('\n').filter((line) => line.startsWith('provenant:'));
      expect(provenantLines).toHaveLength(1);
      expect(provenantLines[0]).toContain(named);
      expect(ws.exists('out/public/ran')).toBe(false);
      const audited = await startWith(ws, [...flags], 'audit');
      expect(audited.code, audited.stderr).toBe(0);
      expect(ws.exists('out/public/ran')).toBe(true);
    });
  }
});
