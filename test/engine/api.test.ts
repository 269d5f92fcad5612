/**
 * The public API in a real process under the preload: record() and subscribe(), run() with a
 * user (pseudonymised when configured), content digests, and provenant's own faults (an
 * unusable state dir, a throwing or slow subscriber) never breaking the app or the policy.
 */
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { useOtlpReceiver } from '../helpers/otlp-receiver.js';
import { distRegister, runNode, stopAll } from '../helpers/spawn.js';
import { journalRecords } from '../helpers/journal.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

const receiverOf = useOtlpReceiver({ beforeAll, afterAll }, async () => {
  await stopAll();
  await cleanupTempDirs();
});

const apiPath = JSON.stringify(join(distRegister, '..', 'index.js'));

function workspace(config: string, app: string): { dir: string; state: string } {
  const dir = tempDir('provenant-api-');
  writeFileSync(join(dir, 'provenant.yaml'), config);
  writeFileSync(join(dir, 'input.csv'), 'patient,hba1c\n1,7.2\n');
  writeFileSync(join(dir, 'app.js'), app);
  return { dir, state: join(dir, 'state') };
}

it('record() links application events into lineage, journal and spans; run() records the user, pseudonymised', async () => {
  receiverOf().reset();
  const { dir, state } = workspace(
    'mode: enforce\njournal: { pseudonymize: true, contentHash: sha256 }\n',
    `const fs = require('node:fs');
const provenant = require(${apiPath});
provenant.run(() => {
  const rows = fs.readFileSync(__dirname + '/input.csv');
  fs.writeFileSync(__dirname + '/dataset.csv', rows);
  provenant.record({ action: 'model.trained', inputs: [__dirname + '/dataset.csv'], outputs: [__dirname + '/risk-v1'], attributes: { epochs: 3 } });
}, { user: 'analyst.kim' });`,
  );
  const result = await runNode({
    args: ['app.js'],
    cwd: dir,
    preload: 'require',
    env: {
      PROVENANT_STATE_DIR: state,
      PROVENANT_CONFIG: join(dir, 'provenant.yaml'),
      PROVENANT_KEY: 'k1',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiverOf().grpcEndpoint,
    },
  });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const records = journalRecords(state);
  const pseudonym = records.find((record) => record.op === 'record')?.user;
  expect(pseudonym).toBeDefined();
  expect(pseudonym).not.toContain('analyst.kim');
  expect(pseudonym).toContain(createHmac('sha256', 'k1').update('analyst.kim').digest('hex'));
  const write = records.find((record) => record.op === 'write' && record.resource?.endsWith('/dataset.csv'));
  expect(write?.contentDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
  const event = records.find((record) => record.op === 'record');
  expect(event?.action).toBe('model.trained');
  expect(event?.resource).toMatch(/\/risk-v1$/);
  expect(event?.sources?.some((uri) => uri.endsWith('/dataset.csv'))).toBe(true);
  expect(event?.sources?.some((uri) => uri.endsWith('/input.csv'))).toBe(true);
  const spans = await receiverOf().waitForSpans((all) => all.some((span) => span.name === 'provenant.record'));
  const span = spans.find((candidate) => candidate.name === 'provenant.record')!;
  expect(span.attributes['provenant.action']).toBe('model.trained');
  // Semantic conventions: a pseudonym is enduser.pseudo.id, and enduser.id is not set.
  expect(span.attributes['enduser.pseudo.id']).toBe(pseudonym);
  expect(span.attributes['enduser.id']).toBeUndefined();

  // The journal's final checkpoint is also a span: the backend holds the signed note, a witness copy.
  const checkpoints = readdirSync(join(state, 'journal'))
    .filter((file) => file.endsWith('.jsonl'))
    .flatMap((file) =>
      readFileSync(join(state, 'journal', file), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { type?: string; note?: string }),
    )
    .filter((line) => line.type === 'checkpoint');
  const final = checkpoints.at(-1)!;
  const witnessed = await receiverOf().waitForSpans((all) =>
    all.some((candidate) => candidate.name === 'provenant.checkpoint' && candidate.attributes['provenant.checkpoint.note'] === final.note),
  );
  const copy = witnessed.find((candidate) => candidate.attributes['provenant.checkpoint.note'] === final.note)!;
  expect(copy.attributes['provenant.checkpoint.tree_size']).toBe(Number(final.note!.split('\n')[1]));

  const lineage = await runNode({
    args: [join(distRegister, '..', 'cli', 'main.js'), 'lineage', join(dir, 'risk-v1'), '--json', '--state', state],
  });
  const graph = JSON.parse(lineage.stdout) as { nodes: { resource: string }[] };
  expect(graph.nodes.map((node) => node.resource).some((uri) => uri.endsWith('/input.csv'))).toBe(true);
});

it('subscribe() delivers every flow; a throwing or slow listener never blocks or breaks I/O', async () => {
  const { dir, state } = workspace(
    'mode: enforce\nresources:\n  - match: { path: "input.csv" }\n    labels: { confidentiality: secret }\n',
    `const fs = require('node:fs');
const provenant = require(${apiPath});
const seen = [];
let slowCalls = 0;
// Delivery is unref'd: this keeps the app alive until the recording listener has seen both flows.
const keepAlive = setInterval(() => {}, 1000);
let callsWhenIoReturned;
let denied = '';
provenant.subscribe(() => { throw new Error('listener bug'); });
provenant.subscribe(() => { slowCalls++; const until = Date.now() + 20; while (Date.now() < until); });
provenant.subscribe((event) => {
  seen.push(event.op + ' ' + (event.decision ?? '') + ' ' + event.resource.split('/').pop());
  if (seen.length < 2) return;
  clearInterval(keepAlive);
  console.log(JSON.stringify({ seen, denied, callsWhenIoReturned, slowCalls, exists: fs.existsSync(__dirname + '/public.csv') }));
});
fs.readFileSync(__dirname + '/input.csv');
try { fs.writeFileSync(__dirname + '/public.csv', 'x'); } catch (error) { denied = error.code; }
callsWhenIoReturned = slowCalls;`,
  );
  const result = await runNode({
    args: ['app.js'],
    cwd: dir,
    preload: 'require',
    env: { PROVENANT_STATE_DIR: state, PROVENANT_CONFIG: join(dir, 'provenant.yaml') },
  });
  expect(result.code).toBe(0);
  const output = JSON.parse(result.stdout) as {
    seen: string[];
    denied: string;
    callsWhenIoReturned: number;
    slowCalls: number;
    exists: boolean;
  };
  expect(output.seen).toEqual(['read  input.csv', 'write deny public.csv']);
  expect(output.denied).toBe('ERR_PROVENANCE_DENIED');
  expect(output.exists).toBe(false);
  // Delivery is deferred: the slow listener had not run when the I/O returned, and ran for both
  // flows afterwards, after the throwing one.
  expect(output.callsWhenIoReturned).toBe(0);
  expect(output.slowCalls).toBe(2);
});

it('an unusable state dir degrades to warnings: the app runs and the policy still denies', async () => {
  const { dir } = workspace(
    'mode: enforce\nresources:\n  - match: { path: "input.csv" }\n    labels: { confidentiality: secret }\n',
    `const fs = require('node:fs');
fs.readFileSync(__dirname + '/input.csv');
try { fs.writeFileSync(__dirname + '/public.csv', 'x'); console.log('written'); } catch (error) { console.log(error.code); }`,
  );
  const notADir = join(dir, 'input.csv', 'state');
  const result = await runNode({
    args: ['app.js'],
    cwd: dir,
    preload: 'require',
    env: { PROVENANT_STATE_DIR: notADir, PROVENANT_CONFIG: join(dir, 'provenant.yaml') },
  });
  expect(result.code).toBe(0);
  expect(result.stdout.trim()).toBe('ERR_PROVENANCE_DENIED');
  expect(existsSync(join(dir, 'public.csv'))).toBe(false);
  // Quiet by default: the warnings go through OTel diag, which is off unless OTEL_LOG_LEVEL is set.
  expect(result.stderr).toBe('');
});
