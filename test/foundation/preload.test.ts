/**
 * Foundation: the preload starts provenant before the app in CJS and ESM apps, exports spans
 * over every OTLP protocol, attempts no connection without an endpoint, and loads once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useOtlpReceiver } from '../helpers/otlp-receiver.js';
import { runNode, stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { appDir, cjsApp } from './apps.js';

const receiverOf = useOtlpReceiver({ beforeAll, afterAll }, async () => {
  await stopAll();
  await cleanupTempDirs();
});

const baseEnv = (): Record<string, string> => ({ PROVENANT_STATE_DIR: tempDir('provenant-state-') });

describe('preload', () => {
  it.each([
    ['grpc', undefined],
    ['http/protobuf', 'http/protobuf'],
    ['http/json', 'http/json'],
  ] as const)('a CJS app started with -r exports spans over %s', async (protocol, setting) => {
    receiverOf().reset();
    const dir = appDir({ 'app.js': cjsApp(''), 'package.json': JSON.stringify({ name: 'cjs-sample-app' }) });
    const result = await runNode({
      args: ['-r', 'provenant/register', 'app.js'],
      cwd: dir,
      env: {
        ...baseEnv(),
        OTEL_EXPORTER_OTLP_ENDPOINT: protocol === 'grpc' ? receiverOf().grpcEndpoint : receiverOf().httpEndpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: setting,
      },
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const spans = await receiverOf().waitForSpans((all) => all.some((span) => span.name === 'provenant.record'));
    const span = spans.find((s) => s.name === 'provenant.record')!;
    expect(span.protocol).toBe(protocol);
    expect(span.attributes['provenant.action']).toBe('app.started');
    // service.name falls back to the app's package name; the other resource attributes are always set.
    expect(span.resource['service.name']).toBe('cjs-sample-app');
    expect(span.resource['process.pid']).toEqual(expect.any(Number));
    expect(span.resource['host.name']).toEqual(expect.any(String));
    expect(span.resource['provenant.node']).toEqual(expect.any(String));
  });

  it('an ESM app started with --import sees patched built-ins through named imports', async () => {
    receiverOf().reset();
    const dir = appDir({
      'app.mjs': `import { readFileSync } from 'node:fs';
import fs from 'node:fs';
import * as provenant from 'provenant';
readFileSync(new URL('./data.txt', import.meta.url));
console.log(JSON.stringify({ same: readFileSync === fs.readFileSync, sources: provenant.current().sources }));
`,
      'data.txt': 'hello',
    });
    const result = await runNode({
      args: ['--import', 'provenant/register', 'app.mjs'],
      cwd: dir,
      env: { ...baseEnv(), OTEL_SERVICE_NAME: 'esm-app', OTEL_EXPORTER_OTLP_ENDPOINT: receiverOf().grpcEndpoint },
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout) as { same: boolean; sources: string[] };
    expect(output.same).toBe(true);
    // The named import is the patched function: the read was recorded into the process context.
    expect(output.sources.some((uri) => uri.endsWith('/data.txt'))).toBe(true);
    const spans = await receiverOf().waitForSpans((all) => all.some((span) => span.name === 'provenant.read'));
    const read = spans.find((span) => span.name === 'provenant.read')!;
    expect(read.resource['service.name']).toBe('esm-app');
    expect(String(read.attributes['provenant.resource'])).toMatch(/^file:\/\/.+\/data\.txt$/);
  });

  it('with no endpoint configured, no connection is attempted', async () => {
    // Loaded before provenant: counts every worker thread started (the exporter lives in one) and
    // every socket this thread connects, whatever port an exporter would default to.
    const probe = `const threads = require('node:worker_threads');
const Worker = threads.Worker;
let workers = 0;
let sockets = 0;
threads.Worker = class extends Worker { constructor(...args) { super(...args); workers++; } };
require('node:diagnostics_channel').subscribe('net.client.socket', () => sockets++);
process.on('exit', () => console.log(JSON.stringify({ workers, sockets })));`;
    const dir = appDir({ 'probe.js': probe, 'app.js': cjsApp('') });
    const run = (env: Record<string, string>) =>
      runNode({ args: ['-r', './probe.js', '-r', 'provenant/register', 'app.js'], cwd: dir, env: { ...baseEnv(), ...env } });

    const silent = await run({});
    expect({ code: silent.code, stderr: silent.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(silent.stdout)).toEqual({ workers: 0, sockets: 0 });

    // The same probe sees the export thread when an endpoint is set (one for the lineage spans and
    // the journal as OTLP logs): the check above can fail.
    receiverOf().reset();
    const exporting = await run({ OTEL_EXPORTER_OTLP_ENDPOINT: receiverOf().grpcEndpoint });
    expect({ code: exporting.code, stderr: exporting.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(exporting.stdout)).toEqual({ workers: 1, sockets: 0 });
    expect(receiverOf().connections).toBeGreaterThan(0);
  });

  it('NODE_OPTIONS="-r provenant/register" reaches child processes', async () => {
    const dir = appDir({
      'parent.js': `const { execFileSync } = require('node:child_process');
process.stdout.write(execFileSync(process.execPath, ['child.js'], { encoding: 'utf8' }));`,
      'child.js': `const provenant = require('provenant');
require('node:fs').readFileSync(__dirname + '/child.js');
console.log(JSON.stringify(provenant.current()));`,
    });
    const result = await runNode({ args: ['parent.js'], cwd: dir, env: { ...baseEnv(), NODE_OPTIONS: '-r provenant/register' } });
    expect(result.stderr).toBe('');
    const current = JSON.parse(result.stdout) as { context: string; sources: string[] };
    expect(current.context).toBe('process');
    expect(current.sources.some((uri) => uri.endsWith('/child.js'))).toBe(true);
  });

  it('loading provenant twice (-r, --import and an API import) patches once', async () => {
    receiverOf().reset();
    const dir = appDir({
      'app.js': `const fs = require('node:fs');
const provenant = require('provenant');
provenant.start();
fs.writeFileSync(__dirname + '/out.txt', 'x');
fs.readFileSync(__dirname + '/out.txt');
`,
    });
    const result = await runNode({
      args: ['-r', 'provenant/register', '--import', 'provenant/register', 'app.js'],
      cwd: dir,
      env: { ...baseEnv(), OTEL_EXPORTER_OTLP_ENDPOINT: receiverOf().grpcEndpoint },
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    // Empty stderr: no lost export, so the collector confirmed every span before the process
    // ended. A double patch would record every flow twice (one per wrapper layer).
    const spans = receiverOf().spans;
    expect(spans.filter((span) => span.name === 'provenant.read')).toHaveLength(1);
    expect(spans.filter((span) => span.name === 'provenant.write')).toHaveLength(1);
  });

  it('an invalid config stops the process with exit code 78 before the app runs', async () => {
    const dir = appDir({
      'app.js': `console.log('app ran');`,
      'provenant.yaml': 'mode: enforce\nresources:\n  - match: { path: "x/**" }\n    lables: {}\n',
    });
    const result = await runNode({ args: ['-r', 'provenant/register', 'app.js'], cwd: dir, env: baseEnv() });
    expect(result.code).toBe(78);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/provenant\.yaml:4:\d+/);
  });
});
