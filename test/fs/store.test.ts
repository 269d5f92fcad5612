// The node-local provenance store on its own: joins, no-op merges, trees moved/copied/retired,
// another connection's commits noticed, and a corrupt database rebuilt instead of crashing.
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openProvenanceStore } from '../../src/provenance/sqlite-store.js';
import type { ProvenanceStore, StoredProvenance } from '../../src/provenance/store.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

const span = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 };
const from = (sources: string[], confidentiality: string, integrity: string, tags: string[] = []): StoredProvenance => ({
  sources,
  labels: { confidentiality, integrity, tags, locations: [] },
});
/**
 * A later macrotask at least 1 ms on by performance.now, the clock the store checks: a timer alone
 * does not promise that, as it counts from the event loop's cached time, which may lag.
 */
async function nextTask(): Promise<void> {
  const until = performance.now() + 1;
  do await new Promise((resolve) => setTimeout(resolve, 1));
  while (performance.now() < until);
}

const opened: ProvenanceStore[] = [];
function open(stateDir: string): ProvenanceStore {
  const store = openProvenanceStore(stateDir);
  opened.push(store);
  return store;
}

afterEach(() => {
  for (const store of opened.splice(0)) store.close();
  diag.disable();
});
afterAll(cleanupTempDirs);

describe('merge', () => {
  it('unions sources, joins labels by level order and keeps the last write span', () => {
    const store = open(tempDir());
    store.merge('/f', { ...from(['file://n/a'], 'internal', 'high', ['pii']), writeSpan: span });
    store.merge('/f', from(['file://n/b'], 'secret', 'low', ['phi']));
    store.merge('/f', from(['file://n/c'], 'public', 'high'));
    expect(store.get('/f')).toEqual({
      sources: ['file://n/a', 'file://n/b', 'file://n/c'],
      labels: { confidentiality: 'secret', integrity: 'low', tags: ['phi', 'pii'], locations: [] },
      writeSpan: { ...span, isRemote: true },
    });
  });

  it('writes nothing when the union adds nothing', () => {
    const stateDir = tempDir();
    const store = open(stateDir);
    store.merge('/f', from(['file://n/a', 'file://n/b'], 'secret', 'low'));
    const observer = new DatabaseSync(path.join(stateDir, 'provenance.db'), { readOnly: true });
    const version = (): unknown => observer.prepare('PRAGMA data_version').get();
    const before = version();
    store.merge('/f', from(['file://n/b'], 'internal', 'high'));
    expect(version()).toEqual(before);
    store.merge('/f', from(['file://n/c'], 'internal', 'high'));
    expect(version()).not.toEqual(before);
    observer.close();
  });

  it('is seen by another process’s store in a later task (≥ 1 ms on)', async () => {
    const stateDir = tempDir();
    const writer = open(stateDir);
    const reader = open(stateDir);
    expect(reader.get('/f')).toBeUndefined();
    writer.merge('/f', from(['file://n/a'], 'secret', 'low'));
    await nextTask();
    expect(reader.get('/f')?.sources).toEqual(['file://n/a']);
  });
});

describe('trees', () => {
  it('move, copy and retire a file or everything under a directory', () => {
    const store = open(tempDir());
    store.merge('/d/one', from(['s1'], 'secret', 'low'));
    store.merge('/d/sub/two', from(['s2'], 'secret', 'low'));
    store.merge('/dx', from(['other'], 'public', 'high'));
    store.merge('/e/old', from(['stale'], 'public', 'high'));

    store.move('/d', '/e');
    expect(store.get('/d/one')).toBeUndefined();
    expect(store.get('/e/one')?.sources).toEqual(['s1']);
    expect(store.get('/e/sub/two')?.sources).toEqual(['s2']);
    expect(store.get('/e/old')).toBeUndefined();
    expect(store.get('/dx')?.sources).toEqual(['other']);

    store.copy('/e/one', '/c/one');
    expect(store.get('/c/one')?.sources).toEqual(['s1']);
    expect(store.get('/e/one')?.sources).toEqual(['s1']);
    store.copy('/nothing', '/c/one');
    expect(store.get('/c/one')).toBeUndefined();

    store.retire('/e');
    expect(store.get('/e/one')).toBeUndefined();
    expect(store.get('/e/sub/two')).toBeUndefined();
  });
});

it('rebuilds a corrupt database with a warning instead of failing', () => {
  const stateDir = tempDir();
  writeFileSync(path.join(stateDir, 'provenance.db'), 'not a database '.repeat(512));
  const warnings: string[] = [];
  const logger: DiagLogger = { error() {}, warn: (message) => warnings.push(message), info() {}, debug() {}, verbose() {} };
  diag.setLogger(logger, DiagLogLevel.WARN);
  const store = open(stateDir);
  store.merge('/f', from(['file://n/a'], 'secret', 'low'));
  expect(store.get('/f')?.sources).toEqual(['file://n/a']);
  expect(warnings.some((message) => message.includes('corrupt'))).toBe(true);
  expect(readdirSync(stateDir).some((name) => name.startsWith('provenance.db.corrupt-'))).toBe(true);
});
