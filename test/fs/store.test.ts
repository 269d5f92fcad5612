// The node-local provenance store on its own: joins, no-op merges, trees moved and retired,
// records keyed by inode (path records folded in once the file exists), a schema 1 database
// migrated, malformed rows read as the most restrictive labels, another connection's commits
// noticed, and a corrupt database rebuilt instead of crashing.
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openProvenanceStore } from '../../src/provenance/sqlite-store.js';
import type { FileIdentity } from '../../src/provenance/file-identity.js';
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
/** A file not created yet: its record waits under its path. */
const at = (path: string): FileIdentity => ({ path, inode: undefined, links: 0, key: path });
/** An existing file: its record is its inode's. */
const inode = (path: string, ino: string, links = 1): FileIdentity => ({ path, inode: `1:${ino}`, links, key: `1:${ino}\u0000${path}` });

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
    store.merge(at('/f'), { ...from(['file://n/a'], 'internal', 'high', ['pii']), writeSpan: span });
    store.merge(at('/f'), from(['file://n/b'], 'secret', 'low', ['phi']));
    store.merge(at('/f'), from(['file://n/c'], 'public', 'high'));
    expect(store.get(at('/f'))).toEqual({
      sources: ['file://n/a', 'file://n/b', 'file://n/c'],
      labels: { confidentiality: 'secret', integrity: 'low', tags: ['phi', 'pii'], locations: [] },
      writeSpan: { ...span, isRemote: true },
    });
  });

  it('writes nothing when the union adds nothing', () => {
    const stateDir = tempDir();
    const store = open(stateDir);
    store.merge(at('/f'), from(['file://n/a', 'file://n/b'], 'secret', 'low'));
    const observer = new DatabaseSync(path.join(stateDir, 'provenance.db'), { readOnly: true });
    const version = (): unknown => observer.prepare('PRAGMA data_version').get();
    const before = version();
    store.merge(at('/f'), from(['file://n/b'], 'internal', 'high'));
    expect(version()).toEqual(before);
    store.merge(at('/f'), from(['file://n/c'], 'internal', 'high'));
    expect(version()).not.toEqual(before);
    observer.close();
  });

  it('is seen by another process’s store in a later task (≥ 1 ms on)', async () => {
    const stateDir = tempDir();
    const writer = open(stateDir);
    const reader = open(stateDir);
    expect(reader.get(at('/f'))).toBeUndefined();
    writer.merge(at('/f'), from(['file://n/a'], 'secret', 'low'));
    await nextTask();
    expect(reader.get(at('/f'))?.sources).toEqual(['file://n/a']);
  });
});

describe('trees', () => {
  it('move and retire a file or everything under a directory', () => {
    const store = open(tempDir());
    store.merge(at('/d/one'), from(['s1'], 'secret', 'low'));
    store.merge(at('/d/sub/two'), from(['s2'], 'secret', 'low'));
    store.merge(at('/dx'), from(['other'], 'public', 'high'));
    store.merge(at('/e/old'), from(['stale'], 'public', 'high'));

    store.move('/d', '/e');
    expect(store.get(at('/d/one'))).toBeUndefined();
    expect(store.get(at('/e/one'))?.sources).toEqual(['s1']);
    expect(store.get(at('/e/sub/two'))?.sources).toEqual(['s2']);
    expect(store.get(at('/e/old'))).toBeUndefined();
    expect(store.get(at('/dx'))?.sources).toEqual(['other']);

    store.retire(at('/e'));
    expect(store.get(at('/e/one'))).toBeUndefined();
    expect(store.get(at('/e/sub/two'))).toBeUndefined();
  });
});

describe('identity', () => {
  it('keeps a file’s record under its inode: every name shares it, a path record is folded in once the file exists', () => {
    const stateDir = tempDir();
    const store = open(stateDir);
    store.merge(at('/new'), from(['file://n/a'], 'secret', 'low'));
    const created = inode('/new', '7');
    store.merge(created, from(['file://n/b'], 'internal', 'high'));
    expect(store.get(created)?.sources).toEqual(['file://n/a', 'file://n/b']);
    // Another name of the same inode (a hard link) reads the same record.
    expect(store.get(inode('/hard-link', '7', 2))?.sources).toEqual(['file://n/a', 'file://n/b']);
    const db = new DatabaseSync(path.join(stateDir, 'provenance.db'), { readOnly: true });
    const keys = db
      .prepare('SELECT path FROM file_provenance ORDER BY path')
      .all()
      .map((row) => row.path);
    db.close();
    expect(keys).toEqual(['inode:1:7']);
    // Retiring one of two names keeps the inode's record; retiring the last one drops it.
    store.retire(inode('/hard-link', '7', 2));
    expect(store.get(created)?.sources).toEqual(['file://n/a', 'file://n/b']);
    store.retire(created);
    expect(store.get(created)).toBeUndefined();
  });

  it('reads a schema 1 database (rows keyed by path) and migrates it to schema 2', () => {
    const stateDir = tempDir();
    const old = new DatabaseSync(path.join(stateDir, 'provenance.db'));
    old.exec(`CREATE TABLE file_provenance (path TEXT PRIMARY KEY, sources TEXT NOT NULL, labels TEXT NOT NULL,
      write_span TEXT, updated_at INTEGER NOT NULL) WITHOUT ROWID`);
    old
      .prepare('INSERT INTO file_provenance VALUES (?, ?, ?, NULL, 0)')
      .run('/srv/f', '["file://n/a"]', '{"confidentiality":"secret","integrity":"low","tags":["pii"],"locations":[]}');
    old.close();
    const store = open(stateDir);
    expect(store.get(inode('/srv/f', '9'))).toEqual(from(['file://n/a'], 'secret', 'low', ['pii']));
    const db = new DatabaseSync(path.join(stateDir, 'provenance.db'), { readOnly: true });
    expect(db.prepare('PRAGMA user_version').get()).toEqual({ user_version: 2 });
    db.close();
  });

  it('reads a malformed or forged row as unknown, most restrictive levels instead of no provenance', () => {
    const stateDir = tempDir();
    open(stateDir).close();
    const db = new DatabaseSync(path.join(stateDir, 'provenance.db'));
    db.prepare('INSERT INTO file_provenance (path, sources, labels, updated_at) VALUES (?, ?, ?, 0)').run('/f', '{"not":"a list"}', '[]');
    db.close();
    const store = open(stateDir);
    expect(store.get(at('/f'))?.labels).toEqual({ confidentiality: '(unreadable)', integrity: '(unreadable)', tags: [], locations: [] });
  });
});

it('rebuilds a corrupt database with a warning instead of failing', () => {
  const stateDir = tempDir();
  writeFileSync(path.join(stateDir, 'provenance.db'), 'not a database '.repeat(512));
  const warnings: string[] = [];
  const logger: DiagLogger = { error() {}, warn: (message) => warnings.push(message), info() {}, debug() {}, verbose() {} };
  diag.setLogger(logger, DiagLogLevel.WARN);
  const store = open(stateDir);
  store.merge(at('/f'), from(['file://n/a'], 'secret', 'low'));
  expect(store.get(at('/f'))?.sources).toEqual(['file://n/a']);
  expect(warnings.some((message) => message.includes('corrupt'))).toBe(true);
  expect(readdirSync(stateDir).some((name) => name.startsWith('provenance.db.corrupt-'))).toBe(true);
});
