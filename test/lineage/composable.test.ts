/**
 * examples/own-sdk: an app with its own TracerProvider registers ProvenantInstrumentation; the
 * lineage spans leave through the app's pipeline (its Resource, its exporter, each span once)
 * in the trace of the app's HTTP server span.
 */
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { useOtlpReceiver } from '../helpers/otlp-receiver.js';
import { repoRoot, startNode, stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

const receiverOf = useOtlpReceiver({ beforeAll, afterAll }, async () => {
  await stopAll();
  await cleanupTempDirs();
});

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nhost: shop\r\nconnection: close\r\n\r\n'));
    socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => resolve(text)).on('error', reject);
  });
}

it('lineage spans go through the app TracerProvider: its resource, one export, the request trace', async () => {
  const dir = join(repoRoot, 'examples', 'own-sdk');
  const app = startNode({
    args: ['-r', 'provenant/register', 'app.js'],
    cwd: dir,
    env: { PROVENANT_STATE_DIR: tempDir('provenant-own-sdk-'), OTEL_EXPORTER_OTLP_ENDPOINT: receiverOf().httpEndpoint },
  });
  const [, port] = await app.waitForLine(/^listening on (\d+)$/);
  expect(await get(Number(port))).toMatch(/"items"/);
  // The app's shutdown flushes its pipeline, provenant's spans included.
  expect(await app.kill('SIGTERM')).toEqual({ code: 0, signal: null });
  const isFileRead = (span: { name: string; attributes: Record<string, unknown> }): boolean =>
    span.name === 'provenant.read' && String(span.attributes['provenant.resource']).endsWith('/data/items.json');
  const spans = await receiverOf().waitForSpans((all) => all.some(isFileRead));
  const lineage = spans.filter((span) => span.scope.name === 'provenant');
  expect(lineage.length).toBeGreaterThan(0);
  for (const span of lineage) {
    expect(span.resource).toMatchObject({ 'service.name': 'shop', 'deployment.environment.name': 'staging' });
    expect(span.protocol).toBe('http/protobuf');
  }
  // Exported once: by the app's exporter, not also by provenant's own.
  expect(new Set(lineage.map((span) => span.spanId)).size).toBe(lineage.length);
  const serverSpan = spans.find((span) => span.kind === 2)!;
  expect(spans.find(isFileRead)?.traceId).toBe(serverSpan.traceId);
});
