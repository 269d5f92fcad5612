// More ways data reaches a file or a context: fs calls inside a cp filter, openAsBlob,
// writeFile from an async iterable or a stream (decided chunk by chunk, the first before the file
// is opened), require()/import of a labelled data file, the app reading one in a module loader's
// shape, and whole-process dumps (heap snapshot, diagnostic report). Real processes under the
// preload in enforce mode; nothing moves when denied; each allowed twin works.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs } from '../helpers/tmp.js';
import { createWorkspace, DENIED, OK, SECRET_TEXT } from './files-fixture.js';

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

const denied = (rule: string): object => ({ ...DENIED, rule });

it('fs calls inside a cpSync filter are mediated like any other', async () => {
  const ws = createWorkspace();
  const results = await ws.steps([
    {
      op: 'cpSyncWithFilter',
      from: ws.abs('out/public'),
      to: ws.abs('out/public-copy'),
      read: ws.abs('secret/a.txt'),
      write: ws.abs('out/public/leak.txt'),
    },
    {
      op: 'cpSyncWithFilter',
      from: ws.abs('out/public'),
      to: ws.abs('out/secret/copy'),
      read: ws.abs('secret/a.txt'),
      write: ws.abs('out/secret/kept.txt'),
    },
  ]);
  expect(results).toEqual([denied('confidentiality'), OK]);
  expect(existsSync(ws.abs('out/public/leak.txt'))).toBe(false);
  expect(existsSync(ws.abs('out/public-copy'))).toBe(false);
  expect(ws.read('out/secret/kept.txt')).toBe(SECRET_TEXT);
  expect(readdirSync(ws.abs('out/secret/copy'))).toEqual(['input.txt']);
});

it('fs.openAsBlob of a labelled file is a read', async () => {
  const ws = createWorkspace();
  const results = await ws.steps([
    { op: 'openAsBlob', path: ws.abs('secret/a.txt') },
    { op: 'write', path: ws.abs('out/public/leak.txt') },
    { op: 'write', path: ws.abs('out/secret/kept.txt') },
  ]);
  expect(results).toEqual([{ ok: true, bytes: 20 }, denied('confidentiality'), OK]);
  expect(existsSync(ws.abs('out/public/leak.txt'))).toBe(false);
  expect(ws.stored('out/secret/kept.txt')?.sources).toEqual([ws.uri('secret/a.txt')]);
});

describe('writeFile from an async iterable or a stream is decided chunk by chunk with the writer’s context', () => {
  it('a first chunk made from secret data is denied before the file is opened', async () => {
    const ws = createWorkspace();
    const results = await ws.steps([
      { op: 'writeFileFromGenerator', path: ws.abs('out/public/generated.txt'), read: ws.abs('secret/a.txt') },
      { op: 'writeFileFromStream', path: ws.abs('out/public/streamed.txt'), from: ws.abs('secret/a.txt') },
      { op: 'writeFileFromStream', path: ws.abs('out/secret/streamed.txt'), from: ws.abs('secret/a.txt') },
    ]);
    expect(results).toEqual([denied('confidentiality'), denied('confidentiality'), OK]);
    expect(existsSync(ws.abs('out/public/generated.txt'))).toBe(false);
    expect(existsSync(ws.abs('out/public/streamed.txt'))).toBe(false);
    expect(ws.read('out/secret/streamed.txt')).toBe(SECRET_TEXT);
  });

  it.each(['path', 'stream', 'handle'])(
    'via %s: a chunk after the context read a secret is denied, the promise rejects, and no later chunk is written',
    async (via) => {
      const ws = createWorkspace();
      const results = await ws.steps([
        { op: 'writeFileTaintedMidway', path: ws.abs('out/public/midway.txt'), read: ws.abs('secret/a.txt'), via },
      ]);
      expect(results).toEqual([denied('confidentiality')]);
      // Byte-identical from the denial on: the allowed first chunk, none of the three after it. A
      // Readable reads ahead, so its first chunk may already be decided after the secret read
      // (then denied before the file is opened): either way nothing after the denial is written.
      const written = existsSync(ws.abs('out/public/midway.txt')) ? ws.read('out/public/midway.txt') : undefined;
      if (via === 'stream') expect([undefined, 'first\n']).toContain(written);
      else expect(written).toBe('first\n');
      // The allowed twin: into a secret file every chunk is written.
      const twin = await ws.steps([
        { op: 'writeFileTaintedMidway', path: ws.abs('out/secret/midway.txt'), read: ws.abs('secret/a.txt'), via },
      ]);
      expect(twin).toEqual([OK]);
      expect(ws.read('out/secret/midway.txt')).toBe('first\nsecond\nthird\nfourth\n');
    },
  );
});

describe('require() and import of a labelled data file taint; unlabelled data modules do not', () => {
  it.each(['requireData', 'importData'])('%s', async (op) => {
    const ws = createWorkspace();
    writeFileSync(ws.abs('secret/record.json'), '{"patient":7}');
    writeFileSync(ws.abs('out/public/hours.json'), '{"open":9}');
    const results = await ws.steps([
      { op, path: ws.abs('out/public/hours.json') },
      { op: 'write', path: ws.abs('out/public/hours-copy.txt') },
      { op, path: ws.abs('secret/record.json') },
      { op: 'write', path: ws.abs('out/public/leak.txt') },
      { op: 'write', path: ws.abs('out/secret/kept.txt') },
    ]);
    expect(results).toEqual([{ ok: true, bytes: 10 }, OK, { ok: true, bytes: 13 }, denied('confidentiality'), OK]);
    expect(existsSync(ws.abs('out/public/leak.txt'))).toBe(false);
    expect(ws.stored('out/public/hours-copy.txt')).toBeUndefined();
    expect(ws.stored('out/secret/kept.txt')?.sources).toEqual([ws.uri('secret/record.json')]);
  });
});

describe("the app reading a labelled JSON file in a module loader's shape is a read", () => {
  it.each(['syncUtf8', 'promiseUtf8', 'promiseUrl'])('%s', async (via) => {
    const ws = createWorkspace();
    writeFileSync(ws.abs('secret/record.json'), '{"patient":7}');
    const results = await ws.steps([
      { op: 'readJsonAs', via, path: ws.abs('secret/record.json') },
      { op: 'write', path: ws.abs('out/public/leak.txt') },
      { op: 'write', path: ws.abs('out/secret/kept.txt') },
    ]);
    expect(results).toEqual([{ ok: true, bytes: 13 }, denied('confidentiality'), OK]);
    expect(existsSync(ws.abs('out/public/leak.txt'))).toBe(false);
    expect(ws.stored('out/secret/kept.txt')?.sources).toEqual([ws.uri('secret/record.json')]);
  });
});

describe('whole-process dumps are writes of everything the process has read', () => {
  it.each([
    ['heapSnapshot', 'h.heapsnapshot'],
    ['writeReport', 'r.json'],
  ])('%s', async (op, file) => {
    const ws = createWorkspace();
    const results = await ws.steps([
      { op, path: ws.abs(`out/public/before-${file}`) },
      // Read in its own context: the dump holds it all the same.
      { op: 'readInFreshContext', path: ws.abs('secret/a.txt') },
      { op, path: ws.abs(`out/public/${file}`) },
      { op, path: ws.abs(`out/secret/${file}`) },
    ]);
    expect(results).toEqual([OK, { ok: true, sources: [ws.uri('secret/a.txt')] }, denied('confidentiality'), OK]);
    expect(existsSync(ws.abs(`out/public/before-${file}`))).toBe(true);
    expect(existsSync(ws.abs(`out/public/${file}`))).toBe(false);
    expect(existsSync(ws.abs(`out/secret/${file}`))).toBe(true);
  });
});
