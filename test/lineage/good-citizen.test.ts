/**
 * provenant next to an app's own OpenTelemetry: its spans never carry all-zero ids (an app's
 * suppressTracing must not blank the evidence), a peer is named once per request, and the
 * standard OTEL_* exporter and resource variables mean what the SDK documents.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { journalRecords } from '../helpers/journal.js';
import { useOtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';
import { repoRoot, runNode, stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

const receiverOf = useOtlpReceiver({ beforeAll, afterAll }, async () => {
  await stopAll();
  await cleanupTempDirs();
});

/** The repository's own OpenTelemetry packages, as the app's (one copy of @opentelemetry/api). */
const otel = (name: string): string => JSON.stringify(join(repoRoot, 'node_modules', '@opentelemetry', name));
const ZERO_SPAN = '0'.repeat(16);

function app(code: string): { dir: string; state: string } {
  const dir = tempDir('provenant-citizen-');
  writeFileSync(join(dir, 'app.js'), code);
  return { dir, state: join(dir, 'state') };
}

describe('lineage spans next to an app that suppresses tracing', () => {
  it('a read made under suppressTracing is still a real span, and the write links to it, never to zeros', async () => {
    receiverOf().reset();
    const { dir, state } = app(`const fs = require('node:fs');
const { context } = require(${otel('api')});
const { suppressTracing } = require(${otel('core')});
const { AsyncLocalStorageContextManager } = require(${otel('context-async-hooks')});
// As the app's own SDK does: without a context manager, context.with changes nothing.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
fs.writeFileSync(__dirname + '/in.txt', 'data');
context.with(suppressTracing(context.active()), () => fs.readFileSync(__dirname + '/in.txt'));
fs.writeFileSync(__dirname + '/out.txt', 'copy');
`);
    const result = await runNode({
      args: ['app.js'],
      cwd: dir,
      preload: 'require',
      env: { PROVENANT_STATE_DIR: state, OTEL_EXPORTER_OTLP_ENDPOINT: receiverOf().grpcEndpoint },
    });
    expect(result.code, result.stderr).toBe(0);
    const isWrite = (span: ReceivedSpan): boolean =>
      span.name === 'provenant.write' && String(span.attributes['provenant.resource']).endsWith('/out.txt');
    const spans = await receiverOf().waitForSpans((all) => all.some(isWrite));
    for (const span of spans) {
      expect(span.spanId).not.toBe(ZERO_SPAN);
      for (const link of span.links) expect(link.spanId).not.toBe(ZERO_SPAN);
    }
    const read = spans.find((span) => span.name === 'provenant.read' && String(span.attributes['provenant.resource']).endsWith('/in.txt'));
    expect(read).toBeDefined();
    expect(spans.find(isWrite)?.links.map((link) => link.spanId)).toContain(read?.spanId);
    // The journal names the same span.
    expect(journalRecords(state).find((r) => r.op === 'read' && r.resource.endsWith('/in.txt'))?.spanId).toBe(read?.spanId);
  });
});

describe('one name per peer and request', () => {
  it('an HTTP request (http.request and fetch) is recorded as http://host:port only, never also as tcp://', async () => {
    const { dir, state } = app(`const http = require('node:http');
const server = http.createServer((q, r) => { q.resume(); q.on('end', () => r.end('ok')); });
server.listen(0, '127.0.0.1', async () => {
  const port = server.address().port;
  await new Promise((done) => {
    const q = http.request({ host: '127.0.0.1', port, method: 'POST', agent: new http.Agent({ keepAlive: true }) }, (r) => { r.resume(); r.on('end', done); });
    q.end('body');
  });
  await (await fetch('http://127.0.0.1:' + port + '/x', { method: 'POST', body: 'b' })).text();
  console.log(port);
  process.exit(0);
});
`);
    const result = await runNode({ args: ['app.js'], cwd: dir, preload: 'require', env: { PROVENANT_STATE_DIR: state } });
    expect(result.code, result.stderr).toBe(0);
    const port = result.stdout.trim();
    const resources = journalRecords(state).map((record) => record.resource);
    expect(resources).toContain(`http://127.0.0.1:${port}`);
    expect(resources.filter((resource) => resource === `tcp://127.0.0.1:${port}`)).toEqual([]);
  });
});

describe('the standard exporter and resource variables', () => {
  const recordingApp = (): { dir: string; state: string } => {
    const made = app(`require(${JSON.stringify(join(repoRoot, 'dist', 'index.js'))}).record({ action: 'app.did' });\n`);
    writeFileSync(join(made.dir, 'package.json'), JSON.stringify({ name: 'billing', version: '4.2.1' }));
    return made;
  };

  it('OTEL_TRACES_EXPORTER=otlp,console exports to both; the resource is the SDK one plus OTEL_RESOURCE_ATTRIBUTES', async () => {
    receiverOf().reset();
    const { dir, state } = recordingApp();
    const result = await runNode({
      args: ['app.js'],
      cwd: dir,
      preload: 'require',
      env: {
        PROVENANT_STATE_DIR: state,
        OTEL_TRACES_EXPORTER: 'otlp,console',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiverOf().grpcEndpoint,
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod,team=pay%20ments',
      },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/name: 'provenant\.record'/);
    const [span] = await receiverOf().waitForSpans((all) => all.some((s) => s.name === 'provenant.record'));
    expect(span.resource).toMatchObject({
      'service.name': 'billing',
      'service.version': '4.2.1',
      'telemetry.sdk.name': 'opentelemetry',
      'telemetry.sdk.language': 'nodejs',
      'deployment.environment.name': 'prod',
      team: 'pay ments',
    });
    expect(span.resource['telemetry.sdk.version']).toMatch(/^\d+\.\d+\.\d+/);
    expect(span.resource['service.instance.id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('OTEL_TRACES_EXPORTER=none exports nothing, even with an endpoint set', async () => {
    receiverOf().reset();
    const before = receiverOf().connections;
    const { dir, state } = recordingApp();
    const result = await runNode({
      args: ['app.js'],
      cwd: dir,
      preload: 'require',
      env: {
        PROVENANT_STATE_DIR: state,
        OTEL_TRACES_EXPORTER: 'none',
        // Journal log export is its own switch (OTEL_LOGS_EXPORTER), tested in test/export.
        OTEL_LOGS_EXPORTER: 'none',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiverOf().grpcEndpoint,
      },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('');
    // The process has exited: any export would have connected by now.
    expect(receiverOf().connections).toBe(before);
    expect(receiverOf().spans).toEqual([]);
    // The journal is written whatever the exporters.
    expect(journalRecords(state).some((record) => record.op === 'record')).toBe(true);
  });
});

describe('PROVENANT_INSTRUMENT', () => {
  const ioApp = (): { dir: string; state: string } =>
    app(`const fs = require('node:fs');
fs.writeFileSync(__dirname + '/out.txt', 'x');
const server = require('node:net').createServer((s) => s.resume()).listen(0, '127.0.0.1', () => {
  const socket = require('node:net').connect(server.address().port, '127.0.0.1', () => socket.end('hello', () => { server.close(); console.log('ran'); }));
});
`);

  it('enforce mode refuses a selection that leaves a channel unmediated: exit 78 before the app runs', async () => {
    const { dir, state } = ioApp();
    const result = await runNode({
      args: ['app.js'],
      cwd: dir,
      preload: 'require',
      env: { PROVENANT_STATE_DIR: state, PROVENANT_MODE: 'enforce', PROVENANT_INSTRUMENT: 'fs,http,fetch' },
    });
    expect(result.code).toBe(78);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/PROVENANT_INSTRUMENT leaves dgram, dns, http2, process, worker unmediated, which enforce mode refuses/);
    expect(() => readFileSync(join(dir, 'out.txt'))).toThrow(/ENOENT/);
  });

  it('a name that is no part stops the start in any mode', async () => {
    const { dir, state } = ioApp();
    const result = await runNode({
      args: ['app.js'],
      cwd: dir,
      preload: 'require',
      env: { PROVENANT_STATE_DIR: state, PROVENANT_MODE: 'audit', PROVENANT_INSTRUMENT: 'fs,htp' },
    });
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(/PROVENANT_INSTRUMENT: unknown part "htp"/);
  });

  it('audit mode instruments only the parts listed', async () => {
    const { dir, state } = ioApp();
    const env = { PROVENANT_STATE_DIR: state, PROVENANT_MODE: 'audit' };
    const only = await runNode({ args: ['app.js'], cwd: dir, preload: 'require', env: { ...env, PROVENANT_INSTRUMENT: 'fs' } });
    expect(only.stdout).toBe('ran\n');
    const resources = journalRecords(state).map((record) => record.resource);
    expect(resources.some((resource) => resource.endsWith('/out.txt'))).toBe(true);
    expect(resources.filter((resource) => resource.startsWith('tcp://'))).toEqual([]);
    // The twin with every part: the socket write is journaled.
    const all = await runNode({ args: ['app.js'], cwd: dir, preload: 'require', env: { ...env, PROVENANT_STATE_DIR: state + '-all' } });
    expect(all.stdout).toBe('ran\n');
    expect(journalRecords(state + '-all').some((record) => record.resource.startsWith('tcp://127.0.0.1'))).toBe(true);
  });
});
