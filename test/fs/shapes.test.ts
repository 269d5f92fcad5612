// Every fs API shape in one instrumented process (apps/shapes.cjs): provenance of what each
// write shape produces, denial in the API's own shape with the destination untouched, read
// shapes feeding a context, lineage spans and their links, and retirement on unlink/rm.
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReceivedSpan } from '../helpers/otlp-receiver.js';
import { stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs } from '../helpers/tmp.js';
import { createWorkspace, spansFor, type FsWorkspace } from './fixture.js';

interface Outcome {
  ok?: boolean;
  code?: string;
  via?: string;
  message?: string;
}

interface ShapesReport {
  writes: Record<string, { allowed?: Outcome; denied: Outcome; existing?: boolean }>;
  reads: Record<string, Outcome>;
  removed: string[];
}

type Via = 'throw' | 'callback' | 'reject' | 'stream';

// [shape, the shape a denial must arrive in, what provenance the write produces]
const WRITE_SHAPES: [string, Via, 'context' | 'transfer'][] = [
  ['writeFileSync', 'throw', 'context'],
  ['writeFileSync new', 'throw', 'context'],
  ['writeFileSync Buffer data', 'throw', 'context'],
  ['writeFileSync URL', 'throw', 'context'],
  ['writeFileSync Buffer path', 'throw', 'context'],
  ['writeFileSync relative path', 'throw', 'context'],
  ['appendFileSync', 'throw', 'context'],
  ['openSync w + writeSync', 'throw', 'context'],
  ['openSync wx + writeSync', 'throw', 'context'],
  ['openSync a + writevSync', 'throw', 'context'],
  ['openSync a+ + writeSync', 'throw', 'context'],
  ['openSync r+ + writeSync', 'throw', 'context'],
  ['openSync w+ + writeSync', 'throw', 'context'],
  ['openSync O_WRONLY|O_CREAT|O_TRUNC', 'throw', 'context'],
  ['openSync O_RDWR|O_APPEND', 'throw', 'context'],
  ['writeFileSync fd', 'throw', 'context'],
  ['truncateSync', 'throw', 'context'],
  ['openSync r+ + ftruncateSync', 'throw', 'context'],
  ['writeFile', 'callback', 'context'],
  ['writeFile new', 'callback', 'context'],
  ['appendFile', 'callback', 'context'],
  ['appendFile new', 'callback', 'context'],
  ['open w + write', 'callback', 'context'],
  ['open a + writev', 'callback', 'context'],
  ['truncate', 'callback', 'context'],
  ['open r+ + ftruncate', 'callback', 'context'],
  ['promises.writeFile', 'reject', 'context'],
  ['promises.writeFile new', 'reject', 'context'],
  ['promises.appendFile', 'reject', 'context'],
  ['promises.truncate', 'reject', 'context'],
  ['promises.open w + FileHandle.write', 'reject', 'context'],
  ['FileHandle.writev', 'reject', 'context'],
  ['FileHandle.writeFile', 'reject', 'context'],
  ['FileHandle.appendFile', 'reject', 'context'],
  ['FileHandle.truncate', 'reject', 'context'],
  ['promises.writeFile FileHandle', 'reject', 'context'],
  ['createWriteStream', 'stream', 'context'],
  ['createWriteStream new', 'stream', 'context'],
  ['createWriteStream flags a', 'stream', 'context'],
  // The handle is opened r+ for the stream: that open is where the denial surfaces.
  ['FileHandle.createWriteStream', 'reject', 'context'],
  ['copyFileSync', 'throw', 'transfer'],
  ['copyFileSync existing', 'throw', 'transfer'],
  ['cpSync', 'throw', 'transfer'],
  ['copyFile', 'callback', 'transfer'],
  ['cp', 'callback', 'transfer'],
  ['promises.copyFile', 'reject', 'transfer'],
  ['promises.cp', 'reject', 'transfer'],
  ['renameSync', 'throw', 'transfer'],
  ['rename', 'callback', 'transfer'],
  ['promises.rename', 'reject', 'transfer'],
];

const READ_SHAPES = [
  'readFileSync',
  'readFileSync utf8',
  'readFileSync URL',
  'readFileSync Buffer path',
  'readFileSync relative path',
  'readFileSync fd',
  'openSync + readSync',
  'openSync + readvSync',
  'readFile',
  'open + read',
  'open + readv',
  'promises.readFile',
  'promises.readFile FileHandle',
  'FileHandle.read',
  'FileHandle.readv',
  'FileHandle.readFile',
  'FileHandle.readLines',
  'FileHandle.createReadStream',
  'createReadStream',
];

const slug = (name: string): string => name.replace(/[^a-zA-Z0-9]+/g, '-').replace(/^-|-$/g, '');

let ws: FsWorkspace;
let report: ShapesReport;
let spans: ReceivedSpan[];

beforeAll(async () => {
  ws = await createWorkspace();
  const result = await ws.run('shapes.cjs');
  expect(result.code, result.stderr).toBe(0);
  report = JSON.parse(result.stdout.trim().split('\n').pop() as string) as ShapesReport;
  const allowedWrites = WRITE_SHAPES.map(([name]) => ws.abs(`out/secret/w-${slug(name)}.txt`));
  spans = await ws.receiver.waitForSpans((received) =>
    allowedWrites.every((file) => received.some((span) => span.name === 'provenant.write' && span.attributes['file.path'] === file)),
  );
});

afterAll(async () => {
  await ws?.close();
  await stopAll();
  await cleanupTempDirs();
});

describe.each(WRITE_SHAPES)('write shape %s', (name, via, kind) => {
  const allowed = (): string => ws.abs(`out/secret/w-${slug(name)}.txt`);
  const denied = (): string => ws.abs(`out/public/w-${slug(name)}.txt`);

  it('writes a secret destination and records where its content came from', () => {
    expect(report.writes[name]?.allowed).toEqual({ ok: true });
    const stored = ws.stored(`out/secret/w-${slug(name)}.txt`);
    expect(stored?.sources).toContain(ws.uri('secret/a.txt'));
    expect(stored?.labels.confidentiality).toBe('secret');
    expect(stored?.labels.tags).toEqual(['pii']);
  });

  it(`is denied for a public destination (${via}), leaving it untouched`, () => {
    const outcome = report.writes[name]?.denied;
    expect(outcome?.code, outcome?.message).toBe('ERR_PROVENANCE_DENIED');
    expect(outcome?.via).toBe(via);
    if (report.writes[name]?.existing) expect(readFileSync(denied(), 'utf8')).toBe('original\n');
    else expect(existsSync(denied())).toBe(false);
    expect(ws.stored(`out/public/w-${slug(name)}.txt`)).toBeUndefined();
  });

  it('emits a write span (linked to the read that fed it) and a deny span', () => {
    // (An existing destination was first written, with no provenance, by the app's setup.)
    const write = spansFor(spans, 'provenant.write', allowed()).find((span) =>
      (span.attributes['provenant.sources'] as string[]).includes(ws.uri('secret/a.txt')),
    ) as ReceivedSpan;
    expect(write).toBeDefined();
    expect(write.attributes['provenant.resource']).toBe(`file://testnode${allowed()}`);
    expect(write.attributes['provenant.decision']).toBe('allow');
    expect(write.attributes['provenant.confidentiality']).toBe('secret');
    if (kind === 'context') {
      const reads = spans.filter((span) => span.name === 'provenant.read' && span.attributes['file.path'] === ws.abs('secret/a.txt'));
      const linked = write.links.map((link) => link.spanId);
      expect(reads.some((read) => linked.includes(read.spanId))).toBe(true);
    }
    const denials = spansFor(spans, 'provenant.deny', denied());
    expect(denials.length).toBeGreaterThanOrEqual(1);
    expect(denials[0]?.attributes['provenant.decision']).toBe('deny');
    expect(denials[0]?.attributes['provenant.rule']).toBe('confidentiality');
  });
});

it('checks an fd write at write time: an fd opened before the secret read cannot take it', () => {
  expect(report.writes['writeSync on an fd opened before the read']?.denied).toMatchObject({ code: 'ERR_PROVENANCE_DENIED', via: 'throw' });
  // The open itself was allowed (and truncated the file); no secret byte reached it.
  expect(readFileSync(ws.abs('out/public/w-fd-checked-at-write-time.txt'), 'utf8')).toBe('');
});

it('covers every shape the app ran', () => {
  const ran = Object.keys(report.writes).filter((name) => name !== 'writeSync on an fd opened before the read');
  expect(ran.sort()).toEqual(WRITE_SHAPES.map(([name]) => name).sort());
  expect(Object.keys(report.reads).sort()).toEqual([...READ_SHAPES].sort());
});

describe.each(READ_SHAPES)('read shape %s', (name) => {
  it('feeds the flow context: what is written next derives from the file read', () => {
    expect(report.reads[name]).toEqual({ ok: true });
    expect(ws.stored(`out/secret/read-${slug(name)}.txt`)?.sources).toEqual([ws.uri('secret/a.txt')]);
  });
});

it('records one read span per context, with the path and resource', () => {
  const reads = spans.filter((span) => span.name === 'provenant.read' && span.attributes['file.path'] === ws.abs('secret/a.txt'));
  expect(reads.length).toBeGreaterThanOrEqual(READ_SHAPES.length);
  expect(reads[0]?.attributes['provenant.resource']).toBe(ws.uri('secret/a.txt'));
  expect(reads[0]?.attributes['provenant.confidentiality']).toBe('secret');
});

it('moves provenance on rename: the destination derives from the renamed file', () => {
  expect(ws.stored('out/secret/w-renameSync.txt')?.sources).toContain(ws.uri('secret/mv-renameSync-allowed.txt'));
  expect(ws.stored('secret/mv-renameSync-allowed.txt')).toBeUndefined();
});

it('retires the provenance of files removed by unlink, rm and recursive rm', () => {
  for (const file of report.removed) expect(ws.stored(`out/secret/${file}`), file).toBeUndefined();
});

it('never records provenant’s own state dir', () => {
  expect(spans.some((span) => String(span.attributes['file.path'] ?? '').startsWith(ws.stateDir))).toBe(false);
});
