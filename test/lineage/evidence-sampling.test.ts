/**
 * Evidence spans cannot be sampled away: denials and checkpoints are exported whatever
 * OTEL_TRACES_SAMPLER says and whatever the caller's sampled flag is, while ordinary flow spans
 * follow the sampler. Real apps under the preload, a real OTLP/HTTP receiver, real requests.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { useOtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';
import { runNode, startNode, stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

const FLOWS = `
const fs = require('node:fs');
const path = require('node:path');
const work = process.env.WORK_DIR;
function flows(name) {
  const secret = fs.readFileSync(path.join(work, 'secret', 'patients.json'));
  fs.writeFileSync(path.join(work, 'secret', 'copy-' + name + '.json'), secret);
  try {
    fs.writeFileSync(path.join(work, 'public', 'leak-' + name + '.json'), secret);
  } catch (error) {
    if (error.code !== 'ERR_PROVENANCE_DENIED') throw error;
  }
}
`;

const SERVER = `${FLOWS}
const http = require('node:http');
const server = http.createServer((req, res) => {
  flows(req.url.slice(1));
  res.end('done');
});
server.listen(0, '127.0.0.1', () => process.stdout.write('port ' + server.address().port + '\\n'));
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
`;

const receiver = useOtlpReceiver({ beforeAll, afterAll }, async () => {
  await stopAll();
  await cleanupTempDirs();
});
let work: string;

beforeAll(() => {
  work = tempDir('provenant-sampling-');
  mkdirSync(path.join(work, 'secret'));
  mkdirSync(path.join(work, 'public'));
  writeFileSync(path.join(work, 'secret', 'patients.json'), '{"name":"Ada"}');
  writeFileSync(path.join(work, 'server.cjs'), SERVER);
  writeFileSync(path.join(work, 'once.cjs'), `${FLOWS}\nflows('once');\n`);
  writeFileSync(
    path.join(work, 'provenant.yaml'),
    [
      'service: sampling',
      'resources:',
      '  - match: { path: "secret/**" }',
      '    labels: { confidentiality: secret, tags: [pii] }',
      '  - match: { path: "public/**" }',
      '    labels: { confidentiality: public }',
    ].join('\n') + '\n',
  );
});

beforeEach(() => receiver().reset());

function env(sampler: string, arg?: string): Record<string, string> {
  return {
    WORK_DIR: work,
    PROVENANT_CONFIG: path.join(work, 'provenant.yaml'),
    PROVENANT_STATE_DIR: path.join(work, 'state'),
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver().httpEndpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_LOGS_EXPORTER: 'none',
    OTEL_TRACES_SAMPLER: sampler,
    ...(arg === undefined ? {} : { OTEL_TRACES_SAMPLER_ARG: arg }),
  };
}

const names = (spans: readonly ReceivedSpan[]): string[] => [...new Set(spans.map((s) => s.name))].sort();

it('always_off: no flow span is exported, every denial and checkpoint is', async () => {
  const app = await runNode({ args: [path.join(work, 'once.cjs')], preload: 'require', env: env('always_off') });
  expect(app.code, app.stderr).toBe(0);
  expect(existsSync(path.join(work, 'public', 'leak-once.json'))).toBe(false);
  // The exit flush waited for the collector's confirmation: everything sent is here.
  const spans = receiver().spans;
  expect(names(spans)).toEqual(['provenant.checkpoint', 'provenant.deny']);
  expect(spans.find((s) => s.name === 'provenant.deny')?.attributes).toMatchObject({ 'provenant.decision': 'deny' });
});

it('always_on (the allowed twin): flow spans are exported too', async () => {
  const app = await runNode({ args: [path.join(work, 'once.cjs')], preload: 'require', env: env('always_on') });
  expect(app.code, app.stderr).toBe(0);
  expect(names(receiver().spans)).toEqual(['provenant.checkpoint', 'provenant.deny', 'provenant.read', 'provenant.write']);
});

it('parentbased_traceidratio: flow spans follow the caller’s sampled flag, denials are exported from unsampled traces too', async () => {
  const server = startNode({ args: [path.join(work, 'server.cjs')], preload: 'require', env: env('parentbased_traceidratio', '0') });
  const port = (await server.waitForLine(/^port (\d+)$/))[1];
  const sampledTrace = 'a'.repeat(32);
  const unsampledTrace = 'b'.repeat(32);
  for (const [trace, flags] of [
    [sampledTrace, '01'],
    [unsampledTrace, '00'],
  ] as const) {
    const response = await fetch(`http://127.0.0.1:${port}/${flags}`, {
      headers: { traceparent: `00-${trace}-${'c'.repeat(16)}-${flags}` },
    });
    await response.arrayBuffer();
  }
  server.child.stdin?.end();
  expect((await server.exited).code, server.stderr).toBe(0);
  const spans = receiver().spans;
  expect(names(spans.filter((s) => s.traceId === sampledTrace))).toEqual(
    expect.arrayContaining(['provenant.deny', 'provenant.read', 'provenant.write']),
  );
  expect(names(spans.filter((s) => s.traceId === unsampledTrace))).toEqual(['provenant.deny']);
  // Root spans at ratio 0: no flow span outside the two requests, yet the checkpoint is there.
  expect(names(spans.filter((s) => s.traceId !== sampledTrace && s.traceId !== unsampledTrace))).toEqual(['provenant.checkpoint']);
  for (const flags of ['00', '01']) expect(existsSync(path.join(work, 'public', `leak-${flags}.json`))).toBe(false);
});
