/**
 * The journal reaches the collector as OTLP log records, at least once: a real app under the
 * preload, a real OTLP/HTTP receiver that is down while the app runs and restarts twice, then
 * comes back. After de-duplication by record id, the receiver holds exactly the journal's records
 * and checkpoints, none missing and none extra; `provenant export status` tells the story.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { ExportStatusReport } from '../../src/export/status.js';
import { isDefinitionLine } from '../../src/journal/format.js';
import { startLogsReceiver, type LogsReceiver, type ReceivedLogRecord } from '../helpers/otlp-logs-receiver.js';
import { closedPort } from '../helpers/ports.js';
import { repoRoot, runNode, startNode, stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { readLines, segmentFiles } from '../journal/helpers.js';

const APP = `
const fs = require('node:fs');
const path = require('node:path');
const work = process.env.WORK_DIR;
const run = process.env.RUN;
const secret = fs.readFileSync(path.join(work, 'secret', 'patients.json'));
fs.writeFileSync(path.join(work, 'secret', 'copy-' + run + '.json'), secret);
try {
  fs.writeFileSync(path.join(work, 'public', 'leak-' + run + '.json'), secret);
  process.exit(3);
} catch (error) {
  if (error.code !== 'ERR_PROVENANCE_DENIED') throw error;
}
if (process.env.WAIT) {
  process.stdout.write('ready\\n');
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}
`;

let work: string;
let stateDir: string;
let port: number;
let receiver: LogsReceiver | undefined;

beforeAll(async () => {
  work = tempDir('provenant-logs-');
  stateDir = path.join(work, 'state');
  mkdirSync(path.join(work, 'secret'));
  mkdirSync(path.join(work, 'public'));
  writeFileSync(path.join(work, 'secret', 'patients.json'), '{"name":"Ada"}');
  writeFileSync(path.join(work, 'app.cjs'), APP);
  writeFileSync(
    path.join(work, 'provenant.yaml'),
    [
      'service: billing',
      'node: n1',
      'resources:',
      '  - match: { path: "secret/**" }',
      '    labels: { confidentiality: secret, tags: [pii] }',
      '  - match: { path: "public/**" }',
      '    labels: { confidentiality: public }',
      'journal: { repeatWindowMs: 0 }',
    ].join('\n') + '\n',
  );
  port = await closedPort();
});

afterAll(async () => {
  await stopAll();
  await receiver?.close();
  await cleanupTempDirs();
});

function appEnv(run: number, wait: boolean, state = stateDir): Record<string, string | undefined> {
  return {
    WORK_DIR: work,
    RUN: String(run),
    ...(wait ? { WAIT: '1' } : {}),
    PROVENANT_CONFIG: path.join(work, 'provenant.yaml'),
    PROVENANT_STATE_DIR: state,
    OTEL_TRACES_EXPORTER: 'none',
    OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `http://127.0.0.1:${port}/v1/logs`,
    OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/json',
    // A down collector is found down quickly, so an exit does not wait for the exporter's retries
    // (a run against a live receiver passes the exporter's default back).
    OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: '500',
  };
}

async function status(state = stateDir): Promise<ExportStatusReport> {
  const result = await runNode({
    args: [path.join(repoRoot, 'dist', 'cli', 'main.js'), 'export', 'status', '--json', '--state', state],
  });
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as ExportStatusReport;
}

/** The ids the exporter must deliver, read from the journal itself: records by log and seq, checkpoints by segment and offset. */
function journalIds(state = stateDir): Map<string, string> {
  const ids = new Map<string, string>();
  for (const file of segmentFiles(state)) {
    let log = '';
    let offset = 0;
    const name = path.basename(file);
    for (const line of readLines(file)) {
      if (line.startsWith('{"type":"header"')) log = (JSON.parse(line) as { log: string }).log;
      // Source set definitions are not sent: each record carries its resolved sources.
      else if (line.startsWith('{"seq":') && !isDefinitionLine(line)) {
        const record = JSON.parse(line) as { seq: number; decision?: string };
        ids.set(`${log}/${record.seq}`, record.decision === 'deny' ? 'provenant.denial' : 'provenant.flow');
      } else if (line.startsWith('{"type":"checkpoint"')) ids.set(`${name}:${offset}`, 'provenant.checkpoint');
      offset += Buffer.byteLength(line) + 1;
    }
  }
  return ids;
}

const idsOf = (records: readonly ReceivedLogRecord[]): Set<string> => new Set(records.map((r) => r.id));

it('delivers every journal record and checkpoint exactly once after de-duplication, across an outage and two restarts', async () => {
  // Run 1: the collector is down; the app ends (its exit flush finds the collector down).
  const first = await runNode({ args: [path.join(work, 'app.cjs')], preload: 'require', env: appEnv(1, false) });
  expect(first.code, first.stderr).toBe(0);
  // Run 2 (restart 1) stays up until its exporter has failed and backed off: it retries on its own.
  const second = startNode({ args: [path.join(work, 'app.cjs')], preload: 'require', env: appEnv(2, true) });
  await second.waitForLine(/^ready$/);
  await vi.waitUntil(async () => (await status()).consecutiveFailures >= 1, { timeout: 30_000, interval: 100 });
  second.child.stdin?.end();
  expect((await second.exited).code, second.stderr).toBe(0);
  // Run 3 (restart 2), the collector still down.
  const third = await runNode({ args: [path.join(work, 'app.cjs')], preload: 'require', env: appEnv(3, false) });
  expect(third.code, third.stderr).toBe(0);

  const down = await status();
  const backlog = journalIds();
  expect(down.exported).toBe(0);
  expect(down.lastSuccess).toBeNull();
  expect(down.lag.records).toBe(backlog.size);
  expect(down.lastFailure?.error).toBeTruthy();
  // Each denial moved nothing.
  for (const run of [1, 2, 3]) expect(existsSync(path.join(work, 'public', `leak-${run}.json`))).toBe(false);

  // The collector comes back; the next run sends the backlog of all three earlier runs.
  receiver = await startLogsReceiver(port);
  const fourth = startNode({
    args: [path.join(work, 'app.cjs')],
    preload: 'require',
    env: { ...appEnv(4, true), OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: undefined },
  });
  await fourth.waitForLine(/^ready$/);
  await receiver.waitFor((records) => [...backlog.keys()].every((id) => idsOf(records).has(id)), 30_000);
  fourth.child.stdin?.end();
  expect((await fourth.exited).code, fourth.stderr).toBe(0);

  const all = journalIds();
  const received = idsOf(receiver.records);
  // Four runs, each: the read, the allowed write, the denial and the final checkpoint.
  expect(all.size).toBeGreaterThanOrEqual(16);
  expect([...received].sort()).toEqual([...all.keys()].sort());
  for (const record of receiver.records) expect(record.eventName, record.id).toBe(all.get(record.id));
  const after = await status();
  expect(after.lag).toEqual({ records: 0, bytes: 0, segments: 0 });
  expect(after.exported).toBeGreaterThanOrEqual(all.size);
  expect(after.lastSuccess).not.toBeNull();
  expect(after.consecutiveFailures).toBe(0);

  // What a record carries: the journal line as body, provenant.* and semantic-convention attributes, ids.
  const denial = receiver.records.find((r) => r.eventName === 'provenant.denial');
  expect(denial?.severityNumber).toBe(13);
  expect(denial?.attributes).toMatchObject({
    'event.name': 'provenant.denial',
    'provenant.decision': 'deny',
    'provenant.rule': 'confidentiality',
    'provenant.confidentiality': 'secret',
    'file.path': expect.stringMatching(/public\/leak-\d\.json$/),
  });
  expect(denial?.traceId).toMatch(/^[0-9a-f]{32}$/);
  expect(denial?.resource).toMatchObject({ 'service.name': 'billing', 'provenant.node': 'n1' });
  expect(denial?.body).toMatchObject({ op: 'write', decision: 'deny', seq: denial?.attributes['provenant.record.seq'] });
  const checkpoint = receiver.records.find((r) => r.eventName === 'provenant.checkpoint');
  expect(checkpoint?.attributes['provenant.checkpoint.tree_size']).toBeGreaterThan(0);
  expect(readFileSync(path.join(stateDir, 'export', 'otlp-logs.json'), 'utf8')).toContain('"cursors"');
}, 120_000);

it('a lag past the bound skips the oldest segment, says so, and keeps it in the journal', async () => {
  const state = path.join(work, 'bounded-state');
  const down = await closedPort();
  const old = await runNode({
    args: [path.join(work, 'app.cjs')],
    preload: 'require',
    env: { ...appEnv(5, false, state), OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `http://127.0.0.1:${down}/v1/logs` },
  });
  expect(old.code, old.stderr).toBe(0);
  const [oldSegment] = segmentFiles(state);
  const oldIds = journalIds(state);
  const oldBytes = statSync(oldSegment).size;
  const up = await startLogsReceiver(await closedPort());
  try {
    // The next run writes the same flows: its segment stays below the old one's size until its final checkpoint.
    const next = startNode({
      args: [path.join(work, 'app.cjs')],
      preload: 'require',
      env: {
        ...appEnv(6, true, state),
        OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: undefined,
        OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `${up.endpoint}/v1/logs`,
        PROVENANT_EXPORT_MAX_LAG_BYTES: String(oldBytes - 1),
      },
    });
    await next.waitForLine(/^ready$/);
    // Its read, write and denial arrive while it runs; only the final checkpoint is left for its exit.
    await up.waitFor((records) => records.filter((r) => r.eventName !== 'provenant.checkpoint').length >= 3);
    next.child.stdin?.end();
    expect((await next.exited).code, next.stderr).toBe(0);
    const report = await status(state);
    expect(report.skipped.lines).toBe(oldIds.size);
    expect(report.skipped.latest).toEqual([
      expect.objectContaining({
        segment: path.basename(oldSegment),
        lines: oldIds.size,
        // The segment's header line may already have been passed (it is no record) before the skip.
        bytes: expect.any(Number),
        reason: expect.stringMatching(/exceeded the bound of \d+ bytes.*stay in the journal/),
      }),
    ]);
    const skippedBytes = report.skipped.latest[0]?.bytes ?? 0;
    expect(skippedBytes).toBeGreaterThan(0);
    expect(skippedBytes).toBeLessThanOrEqual(oldBytes);
    expect(report.lag.records).toBe(0);
    // Skipped, not deleted: the old segment is unchanged; the new run's lines all arrived, none of the old.
    expect(statSync(oldSegment).size).toBe(oldBytes);
    const received = idsOf(up.records);
    const newIds = [...journalIds(state).keys()].filter((id) => !oldIds.has(id));
    expect(newIds.length).toBeGreaterThanOrEqual(4);
    expect(newIds.every((id) => received.has(id))).toBe(true);
    expect([...oldIds.keys()].some((id) => received.has(id))).toBe(false);
  } finally {
    await up.close();
  }
}, 60_000);
