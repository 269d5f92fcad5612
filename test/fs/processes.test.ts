// fs flows across processes and over time: provenance handed from one process to the next
// through the node-local store, concurrent writers, one span for a 10,000-chunk stream, module
// loading left out, and ESM named imports under --import.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stopAll, type Preload } from '../helpers/spawn.js';
import { cleanupTempDirs } from '../helpers/tmp.js';
import { appsDir, createWorkspace, spansFor, SECRET_TEXT, type FsWorkspace } from './fixture.js';

const workspaces: FsWorkspace[] = [];
async function workspace(): Promise<FsWorkspace> {
  const ws = await createWorkspace();
  workspaces.push(ws);
  return ws;
}

afterAll(async () => {
  await Promise.all(workspaces.map((ws) => ws.close()));
  await stopAll();
  await cleanupTempDirs();
});

describe('across processes', () => {
  it('a file derived in process A carries its source into what process B derives from it', async () => {
    const ws = await workspace();
    const a = await ws.run('derive.cjs', { args: ['secret/a.txt', 'out/secret/derived.txt'] });
    expect(a.code, a.stderr).toBe(0);
    const derived = ws.stored('out/secret/derived.txt');
    expect(derived?.sources).toEqual([ws.uri('secret/a.txt')]);

    const b = await ws.run('derive.cjs', { args: ['out/secret/derived.txt', 'out/secret/final.txt'] });
    expect(b.code, b.stderr).toBe(0);
    expect(ws.stored('out/secret/final.txt')?.sources).toEqual([ws.uri('out/secret/derived.txt'), ws.uri('secret/a.txt')]);
    expect(ws.stored('out/secret/final.txt')?.labels).toMatchObject({ confidentiality: 'secret', tags: ['pii'] });

    // B's read of A's output links back to the span of A's write (kept in the store).
    const [traceId, spanId] = (derived?.writeSpan ?? '').split('-');
    const spans = await ws.receiver.waitForSpans((all) => spansFor(all, 'provenant.read', ws.abs('out/secret/derived.txt')).length > 0);
    const read = spansFor(spans, 'provenant.read', ws.abs('out/secret/derived.txt'))[0];
    expect(read?.links).toContainEqual(expect.objectContaining({ traceId, spanId }));

    // What B holds is secret through the store alone: it cannot go to a public file.
    const leak = await ws.run('derive.cjs', { args: ['out/secret/final.txt', 'out/public/leak.txt'] });
    expect(JSON.parse(leak.stdout)).toEqual({ code: 'ERR_PROVENANCE_DENIED' });
  });

  it('two processes writing the same file at once lose nothing', async () => {
    const ws = await workspace();
    const perWriter = 40;
    const expected: string[] = [];
    for (const writer of ['p', 'q']) {
      for (let i = 0; i < perWriter; i++) {
        writeFileSync(ws.abs(`secret/src-${writer}-${i}.txt`), `${writer}${i}\n`);
        expected.push(ws.uri(`secret/src-${writer}-${i}.txt`));
      }
    }
    const [p, q] = await Promise.all(['p', 'q'].map((writer) => ws.run('concurrent.cjs', { args: [writer, String(perWriter)] })));
    expect(p?.code, p?.stderr).toBe(0);
    expect(q?.code, q?.stderr).toBe(0);
    expect(ws.stored('out/secret/shared.txt')?.sources).toEqual(expected.sort());
    expect(readFileSync(ws.abs('out/secret/shared.txt'), 'utf8').split('\n').length - 1).toBe(2 * perWriter);
  });
});

it('a stream of 10,000 chunk writes is one write span; its read back is one read span', async () => {
  const ws = await workspace();
  const result = await ws.run('stream.cjs');
  expect(result.code, result.stderr).toBe(0);
  expect(JSON.parse(result.stdout)).toEqual({ bytes: 10_000 * Buffer.byteLength(SECRET_TEXT) });
  const file = ws.abs('out/secret/stream.txt');
  const spans = await ws.receiver.waitForSpans((all) => spansFor(all, 'provenant.read', file).length > 0);
  expect(spansFor(spans, 'provenant.write', file)).toHaveLength(1);
  expect(spansFor(spans, 'provenant.read', file)).toHaveLength(1);
  expect(ws.stored('out/secret/stream.txt')?.sources).toEqual([ws.uri('secret/a.txt')]);
});

describe.each<[string, Preload]>([
  ['loading.cjs', 'require'],
  ['loading.mjs', 'import'],
])('module loading (%s, preload %s)', (app, preload) => {
  it('is not recorded; I/O in a module’s top-level code is', async () => {
    const ws = await workspace();
    const result = await ws.run(app, { preload });
    expect(result.code, result.stderr).toBe(0);
    // The only source the process holds is what mods/one.cjs read at top level.
    expect(ws.stored('out/secret/loading.txt')?.sources).toEqual([ws.uri('secret/a.txt')]);
    const spans = await ws.receiver.waitForSpans((all) => spansFor(all, 'provenant.write', ws.abs('out/secret/loading.txt')).length > 0);
    const moduleReads = spans.filter((span) => String(span.attributes['file.path']).startsWith(appsDir));
    expect(moduleReads).toEqual([]);
    const journal = readdirSync(path.join(ws.stateDir, 'journal'))
      .map((segment) => readFileSync(path.join(ws.stateDir, 'journal', segment), 'utf8'))
      .join('');
    expect(journal).not.toContain(appsDir);
    expect(journal).toContain(ws.uri('secret/a.txt'));
  });
});

it('ESM named imports of node:fs and node:fs/promises are instrumented (--import)', async () => {
  const ws = await workspace();
  const result = await ws.run('esm-imports.mjs', { preload: 'import' });
  expect(result.code, result.stderr).toBe(0);
  const denied = { code: 'ERR_PROVENANCE_DENIED' };
  expect(JSON.parse(result.stdout)).toEqual({
    writeFileSync: { ok: true },
    writeFileSyncDenied: denied,
    promisesWriteFile: { ok: true },
    promisesWriteFileDenied: denied,
    defaultImportDenied: denied,
    streamDenied: denied,
  });
  expect(ws.stored('out/secret/esm-sync.txt')?.sources).toEqual([ws.uri('secret/a.txt')]);
  expect(ws.stored('out/secret/esm-promises.txt')?.sources).toEqual([ws.uri('secret/a.txt')]);
  expect(readdirSync(ws.abs('out/public'))).toEqual([]);
});
