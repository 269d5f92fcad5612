// A copy of undici bundled into the app (esbuild inlines it: provenant never sees its module, so
// it cannot patch its classes as they load). Through that copy's one-connection Pool, a clean
// request takes the connection and a request made in a context holding the secret waits in the
// Pool's queue; undici creates it only when the clean one frees the connection, in that clean
// moment. It must still be decided with the context that made it: the listener in the
// unlabelled region gets the clean request and not one byte of the held one; the allowed twin
// (a region that may hold secrets) gets both. Built twice: plain and minified (class and
// function names gone).
import path from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runNode, stopAll } from '../helpers/spawn';
import { cleanupTempDirs } from '../helpers/tmp';
import { httpOk, listen, type Listener } from './listeners';
import { netWorkspace } from './net-fixture';

const SECRET = 'the-secret-payload';
const PUBLIC = 'public-note';

let dir: string;
let env: Record<string, string>;
/** 127.0.0.2 may hold secrets; 127.0.0.3 is unlabelled (public). */
let allowedRegion: Listener;
let publicRegion: Listener;
const bundles: Record<'plain' | 'minified', string> = { plain: '', minified: '' };

beforeAll(async () => {
  [allowedRegion, publicRegion] = await Promise.all([listen('127.0.0.2', httpOk), listen('127.0.0.3', httpOk)]);
  ({ dir, env } = netWorkspace(SECRET, PUBLIC));
  for (const kind of ['plain', 'minified'] as const) {
    bundles[kind] = path.join(dir, `app-${kind}.cjs`);
    await build({
      entryPoints: [path.join(__dirname, 'fixtures', 'bundled-undici-app.cjs')],
      outfile: bundles[kind],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      minify: kind === 'minified',
      // The app's `require(args.provenant)` is left to Node, as intended.
      logLevel: 'error',
      absWorkingDir: repoRoot,
    });
  }
});

afterAll(async () => {
  await stopAll();
  await Promise.all([allowedRegion, publicRegion].map((l) => l.close()));
  await cleanupTempDirs();
});

interface Outcome {
  outcome: 'sent' | 'denied' | 'failed';
  rule?: string;
  connections: number;
  received: string;
}

async function against(listener: Listener, bundle: string, via: string): Promise<Outcome> {
  const before = { connections: listener.connections, received: listener.received.length };
  const args = { host: listener.host, port: listener.port, via, provenant: path.join(repoRoot, 'dist', 'index.js') };
  const result = await runNode({ args: [bundle, JSON.stringify(args)], preload: 'require', cwd: dir, env });
  expect(result.stderr).toBe('');
  await listener.settle();
  const lines = result.stdout.trim().split('\n');
  return {
    ...(JSON.parse(lines[lines.length - 1]) as { outcome: Outcome['outcome']; rule?: string }),
    connections: listener.connections - before.connections,
    received: listener.received.slice(before.received),
  };
}

/** The request lines a listener got (a body runs straight into the next request line). */
const requestLines = (received: string): string[] =>
  [...received.matchAll(/(POST|GET) (\/\S*) HTTP\/1\.1\r\n/g)].map((m) => `${m[1]} ${m[2]}`);

describe('a copy of undici bundled into the app: a request held in its Pool queue', () => {
  for (const kind of ['plain', 'minified'] as const) {
    it.each(['fetch', 'dispatch', 'dispatch-v7'])(`${kind} bundle, %s: decided with the context that made it`, async (via) => {
      const denied = await against(publicRegion, bundles[kind], via);
      expect(denied).toMatchObject({ outcome: 'denied', rule: 'confidentiality', connections: 1 });
      // The clean request, alone: not one byte of the held one.
      expect(requestLines(denied.received)).toEqual(['POST /clean']);
      expect(denied.received).toContain(PUBLIC);
      expect(denied.received).not.toContain(SECRET);
      const allowed = await against(allowedRegion, bundles[kind], via);
      expect(allowed).toMatchObject({ outcome: 'sent', connections: 1 });
      expect(requestLines(allowed.received)).toEqual(['POST /clean', 'POST /up']);
      expect(allowed.received).toContain(SECRET);
    });
  }

  it('an emitter that only looks like one (a store with `dispatch(action)`, `compose`, `close`, `destroy`) is left alone: its action arrives as given', async () => {
    const code = [
      "const { EventEmitter } = require('node:events');",
      'class Store extends EventEmitter { dispatch(action) { return action; } compose() {} close() {} destroy() {} }',
      'class Action {}',
      'const action = new Action();',
      'console.log(JSON.stringify({ same: new Store().dispatch(action) === action }));',
    ].join('\n');
    const result = await runNode({ args: ['-e', code], preload: 'require', cwd: dir, env });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ same: true });
  });
});
