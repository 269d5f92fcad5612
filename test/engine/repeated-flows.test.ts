/**
 * Identical flows from many contexts: within the repeat window the first gets a span and a
 * journal record and the repeats are counted in one summary record; with `journal.repeatWindowMs: 0` every context
 * gets its own span and record. Real process, real files, real OTLP receiver.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowRecord } from '../../src/engine/flow-record.js';
import { RepeatedFlows, type FlowIdentity } from '../../src/engine/repeated-flows.js';
import { journalRecords } from '../helpers/journal.js';
import { useOtlpReceiver } from '../helpers/otlp-receiver.js';
import { distRegister, runNode, stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

const receiverOf = useOtlpReceiver({ beforeAll, afterAll }, async () => {
  await stopAll();
  await cleanupTempDirs();
});

const CONTEXTS = 5;

interface JournalLine {
  op?: string;
  resource?: string;
  attributes?: Record<string, unknown>;
}

async function runContexts(config: string): Promise<{ spans: { name: string }[]; records: JournalLine[] }> {
  receiverOf().reset();
  const dir = tempDir('provenant-repeats-');
  const state = join(dir, 'state');
  writeFileSync(join(dir, 'input.txt'), 'same input');
  writeFileSync(join(dir, 'provenant.yaml'), config);
  writeFileSync(
    join(dir, 'app.js'),
    `const fs = require('node:fs');
const provenant = require(${JSON.stringify(join(distRegister, '..', 'index.js'))});
for (let i = 0; i < ${CONTEXTS}; i++) {
  provenant.run(() => {
    const text = fs.readFileSync(__dirname + '/input.txt', 'utf8');
    fs.writeFileSync(__dirname + '/output.txt', text);
  });
}`,
  );
  const result = await runNode({
    args: ['app.js'],
    cwd: dir,
    preload: 'require',
    env: {
      PROVENANT_STATE_DIR: state,
      PROVENANT_CONFIG: join(dir, 'provenant.yaml'),
      OTEL_EXPORTER_OTLP_ENDPOINT: receiverOf().grpcEndpoint,
    },
  });
  // Empty stderr: no lost export was reported, so the collector confirmed every span before the
  // process ended, and the receiver holds them all (it stores a batch before acknowledging it).
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return { spans: [...receiverOf().spans], records: journalRecords(state) };
}

const isOutputWrite = (record: JournalLine): boolean => record.op === 'write' && String(record.resource).endsWith('/output.txt');

describe('repeated flows across contexts', () => {
  it('are summarised within journal.repeatWindowMs: one span and record, then a count', async () => {
    // A window far longer than the run: all contexts fall inside it however slow the machine is.
    const { spans, records } = await runContexts('mode: enforce\njournal: { repeatWindowMs: 3600000 }\n');
    expect(spans.filter((span) => span.name === 'provenant.write')).toHaveLength(1);
    expect(spans.filter((span) => span.name === 'provenant.read')).toHaveLength(1);
    const writes = records.filter(isOutputWrite);
    expect(writes).toHaveLength(2);
    expect(writes[1]?.attributes?.['provenant.repeats']).toBe(CONTEXTS - 1);
  });

  it('get one span and record per context with journal.repeatWindowMs: 0', async () => {
    const { spans, records } = await runContexts('mode: enforce\njournal: { repeatWindowMs: 0 }\n');
    expect(spans.filter((span) => span.name === 'provenant.write')).toHaveLength(CONTEXTS);
    expect(spans.filter((span) => span.name === 'provenant.read')).toHaveLength(CONTEXTS);
    expect(records.filter(isOutputWrite)).toHaveLength(CONTEXTS);
  });
});

describe('the repeat window under flows that never repeat', () => {
  const flow = (resourceId: number): FlowIdentity => ({
    op: 'read',
    resourceId,
    setId: resourceId,
    epoch: 1,
    decision: '',
    user: undefined,
  });
  const record = (resourceId: number): FlowRecord => ({
    time: 0,
    op: 'read',
    resource: `file://n1/users/${resourceId}.json`,
    sources: [],
    labels: { confidentiality: 'internal', integrity: 'high', tags: [], locations: [] },
  });
  /** The flow occurs now: true when the window counted it as a repeat; else it is recorded and remembered. */
  const occur = (window: RepeatedFlows, resourceId: number): boolean => {
    const f = flow(resourceId);
    if (window.repeatOf(f.op, f.resourceId, f.setId, f.epoch, f.decision, f.user, 1) !== undefined) return true;
    window.remember(f, record(resourceId), undefined);
    return false;
  };

  it('remembers the first 256 flows of a window from their first occurrence, later ones only once they occurred before', () => {
    const summaries: FlowRecord[] = [];
    // A window far longer than the test: it closes only when flushed.
    const window = new RepeatedFlows(3_600_000, (summary) => summaries.push(summary));
    for (let id = 1; id <= 300; id++) expect(occur(window, id)).toBe(false);
    // Early flows were remembered; a flow first seen in a crowded window was not (a user's one file).
    expect(occur(window, 7)).toBe(true);
    expect(occur(window, 290)).toBe(false);
    // Its second occurrence is remembered, so its third is a repeat.
    expect(occur(window, 290)).toBe(true);
    window.flush(2);
    expect(summaries.map((summary) => [summary.resource, summary.attributes?.['provenant.repeats']])).toEqual([
      ['file://n1/users/7.json', 1],
      ['file://n1/users/290.json', 1],
    ]);
    // In the next window, crowded again by new flows, a flow that occurred before is remembered at once.
    for (let id = 2000; id < 2300; id++) occur(window, id);
    expect(occur(window, 280)).toBe(false);
    expect(occur(window, 280)).toBe(true);
  });
});
