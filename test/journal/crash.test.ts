// A writer SIGKILLed mid-stream loses at most the flush window (flushIntervalMs), and what it
// left behind verifies (with an 'unclosed' warning, not a failure).
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { verifyJournal } from '../../src/journal/verify.js';
import { repoRoot, runNode, startNode, stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { ed25519, fixtures, journalConfig } from './helpers.js';

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

const FLUSH_MS = 100;
// Scheduling slack: the child's timer fires on an event loop that also runs the append batches.
const SLACK_MS = 50;

it('kill -9 loses at most the flush window and the rest verifies', async () => {
  const stateDir = tempDir('provenant-crash-');
  const job = {
    stateDir,
    signingKey: ed25519().privatePem,
    config: journalConfig({ flushIntervalMs: FLUSH_MS, checkpointEvery: 500, checkpointIntervalMs: 1000 }),
  };
  const child = startNode({ args: [path.join(fixtures, 'crash-writer.mjs')], env: { JOURNAL_JOB: JSON.stringify(job) } });
  await child.waitForLine(/^appended \d{4,} /);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const killedAt = Date.now();
  const exit = await child.kill('SIGKILL');
  expect(exit.signal).toBe('SIGKILL');

  const reports = child.stdoutLines.map((line) => line.split(' ')).map(([, seq, at]) => ({ seq: Number(seq), at: Number(at) }));
  const mustBeOnDisk = Math.max(...reports.filter((r) => r.at <= killedAt - FLUSH_MS - SLACK_MS).map((r) => r.seq));
  expect(mustBeOnDisk).toBeGreaterThan(1000);

  const report = verifyJournal([stateDir]);
  expect(report.failures).toEqual([]);
  expect(report.segments).toHaveLength(1);
  expect(report.segments[0]).toMatchObject({ status: 'unclosed', firstSeq: 1 });
  expect(report.segments[0].lastSeq).toBeGreaterThanOrEqual(mustBeOnDisk);
  expect(report.segments[0].checkpoints).toBeGreaterThan(0);
  expect(report.warnings.map((w) => w.message)).toContainEqual(expect.stringMatching(/no final checkpoint/));

  const cli = await runNode({ args: [path.join(repoRoot, 'dist', 'cli', 'main.js'), 'verify', '--state', stateDir] });
  expect(cli.code, cli.stderr).toBe(0);
  expect(cli.stdout).toMatch(/^warn .* no final checkpoint/m);
});
