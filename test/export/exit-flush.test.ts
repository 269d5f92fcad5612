/**
 * At exit, the background exports (lineage spans, the journal's OTLP logs, OpenLineage) flush at
 * once, each in its own thread, within one budget (2 s by default; 5 s here, through
 * PROVENANT_EXIT_FLUSH_MS): an exit with all three stuck waits about one budget, not the sum. The collector and the OpenLineage receiver here read every request and
 * never answer; the app is told to end only once each export has a request there (a checkpoint
 * every 100 ms starts OpenLineage's), so each is in flight at exit and its flush runs out the budget.
 * One after the other they take at least 3 × 5 s; the test allows 2 × 5 s from the moment the app
 * is told to end until it is gone (one budget plus margin for closing the journal and threads on
 * a loaded machine). That bound is a duration, as what is tested is one; the longer budget keeps
 * the margin above what a loaded machine adds (with 2 s, the exit took 3.92 s of the 4 s allowed
 * at a load average of 30), while three budgets still take far more than two.
 */
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startNode, stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs } from '../helpers/tmp.js';
import { logApp } from './log-app.js';

const EXPORT_BUDGET_MS = 5000;
const paths = new Set<string>();
let arrived: (() => void) | undefined;
const sockets = new Set<net.Socket>();
/** Reads every request and never answers it. */
const stuck = http.createServer((req) => {
  paths.add(req.url ?? '');
  arrived?.();
  req.resume();
});
stuck.on('connection', (socket: net.Socket) => sockets.add(socket));

beforeAll(() => new Promise<void>((resolve) => stuck.listen(0, '127.0.0.1', resolve)));
afterAll(async () => {
  await stopAll();
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => stuck.close(() => resolve()));
  await cleanupTempDirs();
});

it('an exit with three stuck exports waits one budget, not three', async () => {
  const { port } = stuck.address() as net.AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const work = logApp('provenant-exit-flush-', `{ repeatWindowMs: 0, checkpointIntervalMs: 100, openlineage: { url: "${endpoint}" } }`);
  const app = startNode({
    args: [path.join(work, 'app.cjs')],
    preload: 'require',
    env: {
      WORK_DIR: work,
      RUN: '1',
      WAIT: '1',
      PROVENANT_CONFIG: path.join(work, 'provenant.yaml'),
      PROVENANT_STATE_DIR: path.join(work, 'state'),
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      PROVENANT_EXIT_FLUSH_MS: String(EXPORT_BUDGET_MS),
    },
  });
  await app.waitForLine(/^ready$/);
  const all = ['/api/v1/lineage', '/v1/logs', '/v1/traces'];
  await new Promise<void>((resolve) => {
    arrived = () => {
      if (all.every((path) => paths.has(path))) resolve();
    };
    arrived();
  });
  const asked = performance.now();
  app.child.stdin?.end();
  expect((await app.exited).code, app.stderr).toBe(0);
  const exitMs = performance.now() - asked;
  expect(exitMs).toBeGreaterThanOrEqual(EXPORT_BUDGET_MS);
  expect(exitMs).toBeLessThan(2 * EXPORT_BUDGET_MS);
}, 30_000);
