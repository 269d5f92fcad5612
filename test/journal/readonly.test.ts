// A state dir the process cannot write: a warning, flows go on, lostRecords counts, no crash.
// The test needs a real permission failure, so as root it runs the writer as `nobody`.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { cleanEnv, nodeBin } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { fixtures, flowEvent, journalConfig } from './helpers.js';

afterAll(cleanupTempDirs);

const asRoot = process.getuid?.() === 0;

it('read-only state dir: warning, no throw, lostRecords > 0, exit 0', () => {
  const stateDir = tempDir('provenant-ro-');
  mkdirSync(path.join(stateDir, 'journal'));
  chmodSync(path.join(stateDir, 'journal'), 0o555);
  chmodSync(stateDir, 0o555);
  const job = { stateDir, service: 'ro', node: 'n1', config: journalConfig(), events: [flowEvent(1), flowEvent(2), flowEvent(3)] };
  // OTEL_LOG_LEVEL is not read by the bare writer, so the fixture's diag warnings go through a console logger.
  const script = `
    const { diag, DiagConsoleLogger, DiagLogLevel } = require('@opentelemetry/api');
    diag.setLogger(new DiagConsoleLogger(), DiagLogLevel.WARN);
    import(${JSON.stringify(path.join(fixtures, 'append.mjs'))});`;
  const result = spawnSync(nodeBin, ['-e', script], {
    cwd: path.resolve(__dirname, '..', '..'),
    env: cleanEnv({ JOURNAL_JOB: JSON.stringify(job) }),
    encoding: 'utf8',
    ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
  });
  chmodSync(stateDir, 0o755);
  expect(result.status, result.stderr).toBe(0);
  expect(JSON.parse(result.stdout.trim().split('\n').at(-1)!)).toEqual({ lostRecords: 3 });
  const warnings = result.stderr.split('\n').filter((line) => line.includes('journal not writable'));
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatch(/EACCES/);
});
