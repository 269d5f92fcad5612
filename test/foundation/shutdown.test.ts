/**
 * Foundation: spans are flushed on every way a process ends, and the exit code or terminating
 * signal is exactly what it would be without provenant; a dead collector changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useOtlpReceiver } from '../helpers/otlp-receiver.js';
import { closedPort } from '../helpers/ports.js';
import { runNode, startNode, stopAll, type Preload } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { appDir, cjsApp } from './apps.js';

const receiverOf = useOtlpReceiver({ beforeAll, afterAll }, async () => {
  await stopAll();
  await cleanupTempDirs();
});

interface Ending {
  name: string;
  code: string;
  expected: { code: number | null; signal: NodeJS.Signals | null };
}

const endings: Ending[] = [
  { name: 'normal exit', code: '', expected: { code: 0, signal: null } },
  { name: 'process.exitCode = 3', code: 'process.exitCode = 3;', expected: { code: 3, signal: null } },
  { name: 'process.exit(5)', code: 'process.exit(5); console.log("unreachable");', expected: { code: 5, signal: null } },
  { name: 'an uncaught exception', code: 'setTimeout(() => { throw new Error("app bug"); }, 10);', expected: { code: 1, signal: null } },
  { name: 'an unhandled rejection', code: 'Promise.reject(new Error("app bug"));', expected: { code: 1, signal: null } },
];

/** Runs the same app with and without provenant; returns both results. */
async function withAndWithout(code: string, preload: Preload, env: Record<string, string>) {
  const dir = appDir({ 'app.js': cjsApp(code) });
  const plain = await runNode({ args: ['app.js'], cwd: dir });
  const instrumented = await runNode({ args: ['app.js'], cwd: dir, preload, env });
  return { plain, instrumented };
}

describe('exit paths', () => {
  it.each(endings)('$name: same exit status, spans flushed', async ({ code, expected }) => {
    receiverOf().reset();
    const { plain, instrumented } = await withAndWithout(code, 'require', {
      PROVENANT_STATE_DIR: tempDir('provenant-state-'),
      OTEL_EXPORTER_OTLP_ENDPOINT: receiverOf().grpcEndpoint,
    });
    expect({ code: plain.code, signal: plain.signal }).toEqual(expected);
    expect({ code: instrumented.code, signal: instrumented.signal }).toEqual(expected);
    expect(instrumented.stdout).toBe(plain.stdout);
    // The span was made just before the process ended: only a flush on the exit path delivers it.
    await receiverOf().waitForSpans((spans) => spans.some((span) => span.name === 'provenant.record'), 5000);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('a server killed by %s still dies by that signal, spans flushed', async (signal) => {
    receiverOf().reset();
    const dir = appDir({
      'server.js': cjsApp(`require('node:http').createServer((q, r) => r.end('ok')).listen(0, '127.0.0.1', () => console.log('ready'));`),
    });
    const server = startNode({
      args: ['-r', 'provenant/register', 'server.js'],
      cwd: dir,
      env: {
        PROVENANT_STATE_DIR: tempDir('provenant-state-'),
        OTEL_EXPORTER_OTLP_ENDPOINT: receiverOf().httpEndpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      },
    });
    await server.waitForLine(/ready/);
    const exit = await server.kill(signal);
    expect(exit).toEqual({ code: null, signal });
    await receiverOf().waitForSpans((spans) => spans.some((span) => span.name === 'provenant.record'), 5000);
  });

  it('an app with its own SIGTERM handler keeps its behaviour', async () => {
    receiverOf().reset();
    const dir = appDir({
      'server.js':
        cjsApp(`const server = require('node:http').createServer((q, r) => r.end('ok')).listen(0, '127.0.0.1', () => console.log('ready'));
process.on('SIGTERM', () => { console.log('graceful'); server.close(() => { process.exitCode = 4; }); });`),
    });
    const server = startNode({
      args: ['-r', 'provenant/register', 'server.js'],
      cwd: dir,
      env: { PROVENANT_STATE_DIR: tempDir('provenant-state-'), OTEL_EXPORTER_OTLP_ENDPOINT: receiverOf().grpcEndpoint },
    });
    await server.waitForLine(/ready/);
    const exit = await server.kill('SIGTERM');
    expect(exit).toEqual({ code: 4, signal: null });
    expect(server.stdoutLines).toContain('graceful');
    await receiverOf().waitForSpans((spans) => spans.some((span) => span.name === 'provenant.record'), 5000);
  });

  it.each(['grpc', 'http/protobuf', 'http/json'])(
    'a collector that is down (%s) neither hangs nor breaks the app, and the lost export is reported',
    async (protocol) => {
      const port = await closedPort();
      // runNode fails the test if the process outlives its timeout: the exit flush is bounded.
      const { plain, instrumented } = await withAndWithout('console.log("done"); process.exitCode = 2;', 'require', {
        PROVENANT_STATE_DIR: tempDir('provenant-state-'),
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      });
      expect(instrumented.code).toBe(2);
      expect(instrumented.stdout).toBe(plain.stdout);
      // One line, without OTEL_LOG_LEVEL: every span (the app's record and the journal's final
      // checkpoint) is missing from the backend, and the reason is named.
      expect(instrumented.stderr).toMatch(
        /^provenant: 2 of 2 spans were not exported: 2 (refused by the collector or not delivered to it|because the collector had not confirmed them within 2000 ms of exit)\n$/,
      );
    },
  );
});
