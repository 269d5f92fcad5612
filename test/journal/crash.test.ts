// A writer SIGKILLed mid-stream keeps every record its batch timer had written (no exit hook
// runs), and what it left behind verifies (with an 'unclosed' warning, not a failure). That the
// timer writes within flushIntervalMs of an append is shown with fake timers in writer.test.ts.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { verifyJournal } from '../../src/journal/verify.js';
import { repoRoot, runNode, startNode, stopAll, type NodeProcess } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { ed25519, fixtures, journalConfig } from './helpers.js';

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

/** About 350 KB of records: far below the 1 MiB that makes append write at once, so only the timer puts them on disk. */
const ON_DISK = 1000;

/** Polls the journal files until they hold at least `count` records; returns how many they hold. */
async function recordsOnDisk(stateDir: string, count: number, writer: NodeProcess): Promise<number> {
  const dir = path.join(stateDir, 'journal');
  for (let polls = 0; polls < 1000; polls++) {
    const records = (existsSync(dir) ? readdirSync(dir) : [])
      .flatMap((file) => readFileSync(path.join(dir, file), 'utf8').split('\n'))
      .filter((line) => line.startsWith('{"seq":')).length;
    if (records >= count) return records;
    if (writer.child.exitCode !== null) throw new Error(`the writer exited early: ${writer.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the journal never held ${count} records`);
}

it('kill -9 mid-stream keeps every flushed record and the rest verifies', async () => {
  const stateDir = tempDir('provenant-crash-');
  const job = {
    stateDir,
    signingKey: ed25519().privatePem,
    config: journalConfig({ flushIntervalMs: 100, checkpointEvery: 500, checkpointIntervalMs: 1000 }),
  };
  const child = startNode({ args: [path.join(fixtures, 'crash-writer.mjs')], env: { JOURNAL_JOB: JSON.stringify(job) } });
  const flushed = await recordsOnDisk(stateDir, ON_DISK, child);
  const exit = await child.kill('SIGKILL');
  // Still appending when killed: the kill came mid-stream.
  expect(exit.signal).toBe('SIGKILL');

  const report = verifyJournal([stateDir]);
  expect(report.failures).toEqual([]);
  expect(report.segments).toHaveLength(1);
  expect(report.segments[0]).toMatchObject({ status: 'unclosed', firstSeq: 1 });
  expect(report.segments[0].lastSeq).toBeGreaterThanOrEqual(flushed);
  expect(report.segments[0].checkpoints).toBeGreaterThan(0);
  expect(report.warnings.map((w) => w.message)).toContainEqual(expect.stringMatching(/no final checkpoint/));

  const cli = await runNode({ args: [path.join(repoRoot, 'dist', 'cli', 'main.js'), 'verify', '--state', stateDir] });
  expect(cli.code, cli.stderr).toBe(0);
  expect(cli.stdout).toMatch(/^warn .* no final checkpoint/m);
});
