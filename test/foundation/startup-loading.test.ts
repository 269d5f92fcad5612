/**
 * Start-up loads only what a process uses: with export off, OpenTelemetry's SDK is never loaded
 * (lineage spans nobody receives are made as ids alone), in the main thread or in a worker, and
 * every journal record still names its trace and span; flows are decided as before. With OTLP
 * export on and the default sampler, the app's threads still never load it: spans are made as the
 * SDK would make them and exported by provenant's export thread, which adds the SDK's resource.
 * The preload and the API are one bundled file: one copy of provenant's state, whichever way it is reached.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { journalRecords } from '../helpers/journal.js';
import { useOtlpReceiver } from '../helpers/otlp-receiver.js';
import { runNode, stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { appDir } from './apps.js';

const receiverOf = useOtlpReceiver({ beforeAll, afterAll }, async () => {
  await stopAll();
  await cleanupTempDirs();
});

const SECRET = 'patient 7: HbA1c 9.0\n';

// Reads a secret, writes it where it may go and where it may not, in this thread and in a worker
// (handed the secret), then says which OpenTelemetry SDK packages each thread loaded.
const APP = `const fs = require('node:fs');
const { Worker } = require('node:worker_threads');
const sdk = () => Object.keys(require.cache).filter((file) => /@opentelemetry\\/(sdk-trace|resources|core)\\//.test(file)).length;
const attempt = (file, data) => { try { fs.writeFileSync(file, data); return 'written'; } catch (error) { return error.code; } };
const secret = fs.readFileSync('secret/a.txt', 'utf8');
const main = { toSecret: attempt('secret/copy.txt', secret), toPublic: attempt('public.txt', secret), sdkModules: sdk() };
const worker = new Worker(
  \`const fs = require('node:fs');
const { parentPort, workerData } = require('node:worker_threads');
const attempt = (file) => { try { fs.writeFileSync(file, workerData); return 'written'; } catch (error) { return error.code; } };
const toPublic = attempt('worker-public.txt');
const toSecret = attempt('secret/worker.txt');
parentPort.postMessage({ toPublic, toSecret, sdkModules: Object.keys(require.cache).filter((file) => /@opentelemetry\\\\/(sdk-trace|resources|core)\\\\//.test(file)).length });\`,
  { eval: true, workerData: secret },
);
worker.once('message', (inWorker) => worker.terminate().then(() => console.log(JSON.stringify({ main, worker: inWorker }))));
`;

const CONFIG = 'mode: enforce\nresources:\n  - match: { path: "secret/**" }\n    labels: { confidentiality: secret }\n';

async function run(env: Record<string, string> = {}): Promise<{ dir: string; stateDir: string; outcome: unknown }> {
  const dir = appDir({ 'app.js': APP, 'provenant.yaml': CONFIG });
  const stateDir = tempDir('provenant-state-');
  // appDir writes files flat: the secret goes into its folder here.
  mkdirSync(join(dir, 'secret'));
  writeFileSync(join(dir, 'secret', 'a.txt'), SECRET);
  const result = await runNode({ args: ['-r', 'provenant/register', 'app.js'], cwd: dir, env: { PROVENANT_STATE_DIR: stateDir, ...env } });
  expect(result.code, result.stderr).toBe(0);
  return { dir, stateDir, outcome: JSON.parse(result.stdout.trim()) as unknown };
}

describe('start-up loading', () => {
  it('export off: no thread loads the SDK, every flow is decided, every record names its trace and span', async () => {
    const { dir, stateDir, outcome } = await run();
    expect(outcome).toEqual({
      main: { toSecret: 'written', toPublic: 'ERR_PROVENANCE_DENIED', sdkModules: 0 },
      worker: { toPublic: 'ERR_PROVENANCE_DENIED', toSecret: 'written', sdkModules: 0 },
    });
    // Nothing moved where it was denied; the allowed twins hold the data.
    expect(existsSync(join(dir, 'public.txt'))).toBe(false);
    expect(existsSync(join(dir, 'worker-public.txt'))).toBe(false);
    expect(readFileSync(join(dir, 'secret', 'copy.txt'), 'utf8')).toBe(SECRET);
    expect(readFileSync(join(dir, 'secret', 'worker.txt'), 'utf8')).toBe(SECRET);

    const records = journalRecords(stateDir);
    const denials = records.filter((record) => record.decision === 'deny');
    expect(denials.map((record) => record.resource.replace(/.*\//, '')).sort()).toEqual(['public.txt', 'worker-public.txt']);
    for (const record of records) {
      expect(record.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(record.spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(record.traceId).not.toMatch(/^0+$/);
    }
    expect(new Set(records.map((record) => record.spanId)).size).toBe(records.length);
  });

  it('OTLP export on: no app thread loads the SDK; the spans arrive as the SDK would make them', async () => {
    receiverOf().reset();
    const before = BigInt(Date.now()) * 1_000_000n;
    const { stateDir, outcome } = await run({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiverOf().grpcEndpoint,
      OTEL_RESOURCE_ATTRIBUTES: 'team=records',
    });
    expect(outcome).toEqual({
      main: { toSecret: 'written', toPublic: 'ERR_PROVENANCE_DENIED', sdkModules: 0 },
      worker: { toPublic: 'ERR_PROVENANCE_DENIED', toSecret: 'written', sdkModules: 0 },
    });
    const after = BigInt(Date.now()) * 1_000_000n;
    // The main thread's spans (a terminated worker thread has no exit to flush its own from).
    const spans = await receiverOf().waitForSpans((all) =>
      ['provenant.deny', 'provenant.checkpoint'].every((name) => all.some((span) => span.name === name)),
    );
    const read = spans.find((span) => span.name === 'provenant.read' && String(span.attributes['provenant.resource']).endsWith('/a.txt'));
    const copy = spans.find(
      (span) => span.name === 'provenant.write' && String(span.attributes['provenant.resource']).endsWith('/copy.txt'),
    );
    expect(read).toBeDefined();
    expect(copy?.links.map((link) => link.spanId)).toContain(read?.spanId);
    for (const span of spans) {
      expect(span.kind).toBe(1);
      expect(span.status.code).toBe(0);
      expect(span.scope.name).toBe('provenant');
      expect(span.startTimeUnixNano >= before && span.endTimeUnixNano <= after).toBe(true);
      expect(span.resource).toMatchObject({ 'telemetry.sdk.name': 'opentelemetry', 'telemetry.sdk.language': 'nodejs', team: 'records' });
      expect(span.resource['service.instance.id']).toMatch(/^[0-9a-f-]{36}$/);
    }
    // The journal names the exported denial span.
    const denial = journalRecords(stateDir).find((record) => record.decision === 'deny' && record.resource.endsWith('/public.txt'));
    expect(spans.find((span) => span.name === 'provenant.deny')?.spanId).toBe(denial?.spanId);
  });

  it('a sampler other than the default goes through the SDK, with the same decisions', async () => {
    const { stateDir, outcome } = await run({ OTEL_TRACES_SAMPLER: 'always_off' });
    expect(outcome).toEqual({
      main: { toSecret: 'written', toPublic: 'ERR_PROVENANCE_DENIED', sdkModules: expect.any(Number) as number },
      worker: { toPublic: 'ERR_PROVENANCE_DENIED', toSecret: 'written', sdkModules: expect.any(Number) as number },
    });
    const { main } = outcome as { main: { sdkModules: number } };
    expect(main.sdkModules).toBeGreaterThan(0);
    for (const record of journalRecords(stateDir)) expect(record.spanId).toMatch(/^[0-9a-f]{16}$/);
  });

  it("the preload and the API (CJS and ESM) share one bundled copy: its denials are the API's errors, its reads the API's provenance", async () => {
    const app = `import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import * as esm from 'provenant';
const cjs = createRequire(import.meta.url)('provenant');
readFileSync('secret/a.txt');
let denial;
try { writeFileSync('public.txt', 'x'); } catch (error) { denial = error; }
const require = createRequire(import.meta.url);
const dist = require.resolve('provenant').replace(/index\\.js$/, '');
const own = Object.keys(require.cache).filter((file) => file.startsWith(dist));
console.log(JSON.stringify({
  esmError: denial instanceof esm.ProvenanceDeniedError,
  cjsError: denial instanceof cjs.ProvenanceDeniedError,
  sameApi: esm.current === cjs.current,
  sources: esm.current().sources.map((uri) => uri.replace(/.*\\//, '')),
  ownFiles: own.map((file) => file.replace(/.*\\//, '')).sort(),
}));
`;
    const dir = appDir({ 'app.mjs': app, 'provenant.yaml': CONFIG });
    mkdirSync(join(dir, 'secret'));
    writeFileSync(join(dir, 'secret', 'a.txt'), SECRET);
    const result = await runNode({
      args: ['--import', 'provenant/register', 'app.mjs'],
      cwd: dir,
      env: { PROVENANT_STATE_DIR: tempDir('provenant-state-') },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout.trim())).toEqual({
      esmError: true,
      cjsError: true,
      sameApi: true,
      sources: ['a.txt'],
      ownFiles: ['index.js', 'provenant.js', 'register.js'],
    });
    expect(existsSync(join(dir, 'public.txt'))).toBe(false);
  });
});
