/**
 * Foundation: spans made just before exit reach the collector even when the machine is busy.
 * CPU-bound processes (more than there are cores) run beside short-lived apps, so the export
 * worker's start-up and the exporter's loading compete for CPU with the app's exit. What is tested
 * is that the exit waits for the export thread to start and to deliver, not how fast a loaded
 * machine does that: the exit's time budget (PROVENANT_EXIT_FLUSH_MS) is set far beyond either,
 * so the outcome does not depend on how busy the machine is (the budget itself: exit-flush.test.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { useOtlpReceiver } from '../helpers/otlp-receiver.js';
import { nodeBin, runNode, stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { appDir } from './apps.js';

const HOGS = 4;
const RUNS = 8;

const hogs: ChildProcess[] = [];

const receiverOf = useOtlpReceiver({ beforeAll, afterAll }, async () => {
  await Promise.all(
    hogs.map(
      (hog) =>
        new Promise<void>((resolve) => {
          if (hog.exitCode !== null || hog.signalCode !== null) return resolve();
          hog.once('exit', () => resolve());
          hog.kill('SIGKILL');
        }),
    ),
  );
  await stopAll();
  await cleanupTempDirs();
});

beforeAll(() => {
  for (let i = 0; i < HOGS; i++) hogs.push(spawn(nodeBin, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
});

// The timeout only bounds a failure: on a machine already busy before the hogs start, a run takes seconds.
it(`every run's spans arrive with ${HOGS} CPU-bound processes beside the app`, async () => {
  receiverOf().reset();
  const dir = appDir({
    'app.js': `require('provenant').record({ action: 'app.ran', attributes: { run: Number(process.env.RUN) } });`,
  });
  for (let run = 0; run < RUNS; run++) {
    const result = await runNode({
      args: ['app.js'],
      cwd: dir,
      preload: 'require',
      env: {
        RUN: String(run),
        PROVENANT_STATE_DIR: tempDir('provenant-state-'),
        OTEL_EXPORTER_OTLP_ENDPOINT: receiverOf().grpcEndpoint,
        PROVENANT_EXIT_FLUSH_MS: '60000',
        OTEL_EXPORTER_OTLP_TIMEOUT: '60000',
      },
    });
    // Empty stderr: no lost export was reported.
    expect({ run, code: result.code, stderr: result.stderr }).toEqual({ run, code: 0, stderr: '' });
  }
  const runsSeen = (spans: readonly { name: string; attributes: Record<string, unknown> }[]): Set<unknown> =>
    new Set(spans.filter((span) => span.name === 'provenant.record').map((span) => span.attributes['run']));
  await receiverOf().waitForSpans((spans) => runsSeen(spans).size === RUNS);
  expect([...runsSeen(receiverOf().spans)].sort()).toEqual([...Array(RUNS).keys()]);
}, 300_000);
