/**
 * An app whose own SIGTERM handler keeps it alive (as an OpenTelemetry SDK shutdown handler, or a
 * drain that never ends, may) is SIGKILLed by its orchestrator after the grace period, with no
 * 'exit' event: the journal still ends with a checkpoint covering every record made before the
 * SIGTERM, written when the signal arrived.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { verifyJournal } from '../../src/journal/verify.js';
import { segmentFiles, readLines } from '../journal/helpers.js';
import { startNode, stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { appDir } from './apps.js';

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

it('SIGTERM with an app handler that never exits: the checkpoint is on disk before SIGKILL', async () => {
  const state = tempDir('provenant-state-');
  const dir = appDir({
    'server.js': `const fs = require('node:fs');
const server = require('node:http').createServer((q, r) => r.end(fs.readFileSync(__dirname + '/data.txt')));
server.listen(0, '127.0.0.1', () => console.log('port ' + server.address().port));
// Registered after the preload's handler, so provenant's runs first: when this line is printed,
// provenant's part of the signal is done.
process.on('SIGTERM', () => console.log('draining forever'));
`,
  });
  writeFileSync(join(dir, 'data.txt'), 'hello');
  // Periodic checkpoints far away: only the signal can have written the one we look for.
  writeFileSync(join(dir, 'provenant.yaml'), 'journal: { checkpointIntervalMs: 3600000, checkpointEvery: 100000 }\n');
  const app = startNode({ args: ['-r', 'provenant/register', 'server.js'], cwd: dir, env: { PROVENANT_STATE_DIR: state } });
  const [, port] = await app.waitForLine(/^port (\d+)$/);
  // A flow just before the signal: the read of data.txt and the response.
  expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('hello');

  app.child.kill('SIGTERM');
  await app.waitForLine(/^draining forever$/);
  const exit = await app.kill('SIGKILL');
  expect(exit.signal).toBe('SIGKILL');

  const [segment] = segmentFiles(state);
  const lines = readLines(segment);
  const records = lines.filter((line) => line.startsWith('{"seq":'));
  expect(records.some((line) => line.includes('data.txt'))).toBe(true);
  const last = JSON.parse(lines[lines.length - 1]) as { type?: string; closes?: unknown; note?: string };
  expect(last).toMatchObject({ type: 'checkpoint', closes: null });
  // The checkpoint's tree size (second line of its note) covers every record.
  expect(Number(last.note?.split('\n')[1])).toBe(records.length);

  const report = verifyJournal([state]);
  expect(report.failures).toEqual([]);
  expect(report.segments[0]).toMatchObject({ status: 'unclosed', lastSeq: records.length });
});
