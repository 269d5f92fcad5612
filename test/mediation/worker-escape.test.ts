// A worker the app starts without provenant would be a thread outside the monitor: it reads a
// labelled file untainted and sends it anywhere. In enforce mode every worker runs provenant (its
// execArgv and env are completed, the app's own flags kept) or is refused; audit mode starts it as
// given and records the violation. 127.0.0.2 may hold secrets; 127.0.0.3 is unlabelled.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runNode, stopAll } from '../helpers/spawn';
import { cleanupTempDirs } from '../helpers/tmp';
import { journal } from '../net/helpers';
import { listen, secretAndPublicRegions, type Listener } from './listeners';
import { netWorkspace } from './net-fixture';

const SECRET = 'the-worker-secret';
const PUBLIC = 'public-note';
const app = path.join(__dirname, 'fixtures', 'worker-escape.cjs');

const regions = secretAndPublicRegions();

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

interface Outcome {
  created: string;
  rule?: string;
  message?: string;
  socket?: string;
  file?: string;
  noDeprecation?: boolean;
  otherPreload?: boolean;
}

async function run(shape: string, to: Listener, file: string, extraEnv: Record<string, string> = {}) {
  const { dir, env } = netWorkspace(SECRET, PUBLIC, ['  - match: { path: "vault.txt" }', '    labels: { confidentiality: secret }']);
  const target = JSON.stringify({ host: to.host, port: to.port, file });
  const result = await runNode({ args: [app, shape, target], preload: 'require', cwd: dir, env: { ...env, ...extraEnv } });
  expect(result.code, result.stderr).toBe(0);
  await to.settle();
  const lines = result.stdout.trim().split('\n');
  return { dir, outcome: JSON.parse(lines[lines.length - 1]) as Outcome };
}

const denied = 'ERR_PROVENANCE_DENIED';

describe('enforce mode: every worker runs provenant', () => {
  for (const shape of ['bare', 'eval', 'env']) {
    it(`a worker started without provenant (${shape}) runs it: the secret it reads reaches neither the unlabelled listener nor a public file`, async () => {
      const { dir, outcome } = await run(shape, regions.unlabelled, 'public.txt');
      expect(outcome).toMatchObject({ created: 'yes', socket: denied, file: denied });
      expect(readFileSync(path.join(dir, 'public.txt'), 'utf8')).toBe(PUBLIC);
      expect(regions.unlabelled.connections).toBe(0);
      expect(regions.unlabelled.received).toBe('');
    });
  }

  it("the allowed twin keeps the app's own flags and preloads, and sends the secret where it may go", async () => {
    const { dir, outcome } = await run('flags', regions.secret, 'vault.txt');
    expect(outcome).toEqual({ created: 'yes', socket: 'sent', file: 'written', noDeprecation: true, otherPreload: true });
    expect(readFileSync(path.join(dir, 'vault.txt'), 'utf8')).toBe(SECRET);
    expect(regions.secret.received).toContain(SECRET);
  });

  it('a flag Node refuses in any worker is refused as without provenant', async () => {
    const { outcome } = await run('heap', regions.unlabelled, 'public.txt');
    expect(outcome.created).toBe('ERR_WORKER_INVALID_EXEC_ARGV');
    expect(outcome.message).toMatch(/--max-old-space-size=64$/);
  });

  for (const [shape, why] of [
    ['marked', /export threads/],
    ['shared', /SHARE_ENV/],
  ] as const) {
    it(`a worker that cannot be put under provenant (${shape}) is refused, saying why, and never runs`, async () => {
      const { dir, outcome } = await run(shape, regions.unlabelled, 'public.txt');
      expect(outcome).toMatchObject({ created: denied, rule: 'unmonitored-thread' });
      expect(outcome.message).toMatch(why);
      expect(readFileSync(path.join(dir, 'public.txt'), 'utf8')).toBe(PUBLIC);
      expect(regions.unlabelled.connections).toBe(0);
    });
  }
});

describe('audit mode', () => {
  it('a worker without provenant runs as given (the thread is unmediated) and is recorded as a violation', async () => {
    const auditRegion = await listen('127.0.0.3');
    try {
      const { dir, outcome } = await run('bare', auditRegion, 'public.txt', { PROVENANT_MODE: 'audit' });
      expect(outcome).toMatchObject({ created: 'yes', socket: 'sent', file: 'written' });
      expect(auditRegion.received).toBe(SECRET);
      const violation = journal(dir).find((r) => r.rule === 'unmonitored-thread');
      expect(violation?.decision).toBe('violation');
    } finally {
      await auditRegion.close();
    }
  });
});
