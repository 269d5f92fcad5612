/**
 * The journal's OTLP log export over gRPC and OTLP/HTTP protobuf, end to end: a real app under the
 * preload, a real receiver of that protocol (grpc-js serving LogsService/Export; an HTTP server
 * decoding protobuf with the OTLP .proto definitions) that is down for the first run and up for
 * the second. Every journal record and checkpoint of both runs arrives, named by its stable id.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startLogsReceiver } from '../helpers/otlp-logs-receiver.js';
import type { OtlpProtocol } from '../helpers/otlp-receiver.js';
import { closedPort } from '../helpers/ports.js';
import { runNode, startNode, stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs } from '../helpers/tmp.js';
import { journalIds, logApp } from './log-app.js';

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

for (const protocol of ['grpc', 'http/protobuf'] as const satisfies readonly OtlpProtocol[]) {
  it(`${protocol}: every record and checkpoint of a run during an outage and of the next arrives, with stable ids`, async () => {
    const work = logApp(`provenant-logs-${protocol.replace('/', '-')}-`);
    const state = path.join(work, 'state');
    const port = await closedPort();
    const env = (run: number, wait: boolean): Record<string, string> => ({
      WORK_DIR: work,
      RUN: String(run),
      ...(wait ? { WAIT: '1' } : {}),
      PROVENANT_CONFIG: path.join(work, 'provenant.yaml'),
      PROVENANT_STATE_DIR: state,
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `http://127.0.0.1:${port}${protocol === 'grpc' ? '' : '/v1/logs'}`,
      OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: protocol,
    });
    // The collector is down: the run ends with everything behind the cursor.
    const down = await runNode({
      args: [path.join(work, 'app.cjs')],
      preload: 'require',
      env: { ...env(1, false), OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: '500' },
    });
    expect(down.code, down.stderr).toBe(0);
    expect(existsSync(path.join(work, 'public', 'leak-1.json'))).toBe(false);
    const backlog = journalIds(state);
    expect(backlog.size).toBeGreaterThanOrEqual(4);

    const receiver = await startLogsReceiver(port, [], protocol);
    try {
      const up = startNode({ args: [path.join(work, 'app.cjs')], preload: 'require', env: env(2, true) });
      await up.waitForLine(/^ready$/);
      await receiver.waitFor((records) => {
        const ids = new Set(records.map((record) => record.id));
        return [...backlog.keys()].every((id) => ids.has(id));
      });
      up.child.stdin?.end();
      expect((await up.exited).code, up.stderr).toBe(0);

      const all = journalIds(state);
      const received = new Set(receiver.records.map((record) => record.id));
      expect([...received].sort()).toEqual([...all.keys()].sort());
      for (const record of receiver.records) expect(record.eventName, record.id).toBe(all.get(record.id));
      const denial = receiver.records.find((record) => record.eventName === 'provenant.denial');
      expect(denial?.attributes).toMatchObject({ 'provenant.decision': 'deny', 'provenant.rule': 'confidentiality' });
      expect(denial?.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(denial?.resource).toMatchObject({ 'service.name': 'billing', 'provenant.node': 'n1' });
      expect(denial?.body).toMatchObject({ op: 'write', decision: 'deny', seq: denial?.attributes['provenant.record.seq'] });
    } finally {
      await receiver.close();
    }
  }, 60_000);
}
