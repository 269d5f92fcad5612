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

describe('interned sets', () => {
  function setRows(stateDir: string): { rows: number; added: number } {
    const db = new DatabaseSync(path.join(stateDir, 'provenance.db'), { readOnly: true });
    const row = db.prepare('SELECT count(*) AS rows, coalesce(sum(json_array_length(added)), 0) AS added FROM provenance_sets').get() as {
      rows: number;
      added: number;
    };
    db.close();
    return row;
  }

  it('one context writing N files stores N sources in all, not N²/2, and reads each set back exactly', () => {
    const stateDir = tempDir();
    const store = open(stateDir);
    const sources: string[] = [];
    for (let i = 0; i < 300; i++) {
      sources.push(`file://n/in/${String(i).padStart(4, '0')}`);
      store.merge(at(`/out/${i}`), from([...sources], 'secret', 'low', ['pii']));
    }
    expect(setRows(stateDir)).toEqual({ rows: 300, added: 300 });
    // A fresh process (cold caches) reads every set back exactly.
    const reader = open(stateDir);
    for (const i of [299, 0, 150]) expect(reader.get(at(`/out/${i}`))).toEqual(from(sources.slice(0, i + 1), 'secret', 'low', ['pii']));
  });

  it('equal sets share one row; a file whose provenance grows stores only what it gains', () => {
    const stateDir = tempDir();
    const store = open(stateDir);
    store.merge(at('/a'), from(['file://n/x', 'file://n/y'], 'internal', 'high'));
    store.merge(at('/b'), from(['file://n/y', 'file://n/x'], 'internal', 'high'));
    expect(setRows(stateDir)).toEqual({ rows: 1, added: 2 });
    // Same sources, other labels: another set, which adds no source to the first.
    store.merge(at('/c'), from(['file://n/x', 'file://n/y'], 'secret', 'high'));
    expect(setRows(stateDir)).toEqual({ rows: 2, added: 2 });
    store.merge(at('/a'), from(['file://n/z'], 'internal', 'high'));
    expect(setRows(stateDir)).toEqual({ rows: 3, added: 3 });
    expect(open(stateDir).get(at('/c'))).toEqual(from(['file://n/x', 'file://n/y'], 'secret', 'high'));
    expect(open(stateDir).get(at('/a'))?.sources).toEqual(['file://n/x', 'file://n/y', 'file://n/z']);
  });
});

describe('durability', () => {
  it('commits and syncs each merge before it returns, unless deferred: then get() answers with it at once and durable() commits and syncs it', async () => {
    const stateDir = tempDir();
    const store = open(stateDir);
    const other = open(stateDir);
    store.merge(at('/sync'), from(['file://n/a'], 'secret', 'low'));
    expect(store.durable()).toBeUndefined();
    expect(other.get(at('/sync'))?.sources).toEqual(['file://n/a']);
    store.deferDurability(() => {
      store.merge(at('/one'), from(['file://n/b'], 'secret', 'low'));
      store.merge(at('/two'), from(['file://n/c'], 'secret', 'low'));
    });
    // This process reads them at once; another sees them once they are committed, not before.
    expect(store.uncommitted(at('/two'))).toBe(true);
    expect(store.uncommitted(at('/sync'))).toBe(false);
    expect(store.get(at('/two'))).toEqual(from(['file://n/c'], 'secret', 'low'));
    expect(other.get(at('/two'))).toBeUndefined();
    const durable = store.durable();
    expect(durable).toBeInstanceOf(Promise);
    // Asked again before the sync settles: the same wait (one commit and one sync for both).
    expect(store.durable()).toBe(durable);
    await durable;
    expect(store.uncommitted(at('/two'))).toBe(false);
    expect(store.durable()).toBeUndefined();
    await nextTask();
    expect(other.get(at('/one'))?.sources).toEqual(['file://n/b']);
    expect(other.get(at('/two'))?.sources).toEqual(['file://n/c']);
  });

  it('a synchronous merge, move or retire commits what deferred merges left pending before it changes anything', async () => {
    const stateDir = tempDir();
    const store = open(stateDir);
    const other = open(stateDir);
    store.deferDurability(() => store.merge(at('/a'), from(['file://n/a'], 'secret', 'low')));
    store.merge(at('/b'), from(['file://n/b'], 'public', 'high'));
    expect(store.uncommitted(at('/a'))).toBe(false);
    expect(other.get(at('/a'))?.sources).toEqual(['file://n/a']);
    // Moved after the pending merge is committed: the record follows the file to its new name.
    store.deferDurability(() => store.merge(at('/c'), from(['file://n/c'], 'secret', 'low')));
    store.move('/c', '/d');
    await nextTask();
    expect(other.get(at('/c'))).toBeUndefined();
    expect(other.get(at('/d'))?.sources).toEqual(['file://n/c']);
    // Already merged, still pending: flush() commits it now (outside deferDurability).
    store.deferDurability(() => store.merge(at('/e'), from(['file://n/e'], 'secret', 'low')));
    store.flush();
    await nextTask();
    expect(other.get(at('/e'))?.sources).toEqual(['file://n/e']);
    expect(store.durable()).toBeUndefined();
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
      .prepare('SELECT path FROM file_records ORDER BY path')
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

  it('migrates a schema 1 database (rows keyed by path, each with its own source list) to interned sets on open', () => {
    const stateDir = tempDir();
    const old = new DatabaseSync(path.join(stateDir, 'provenance.db'));
    old.exec(`CREATE TABLE file_provenance (path TEXT PRIMARY KEY, sources TEXT NOT NULL, labels TEXT NOT NULL,
      write_span TEXT, updated_at INTEGER NOT NULL) WITHOUT ROWID`);
    const insert = old.prepare('INSERT INTO file_provenance VALUES (?, ?, ?, ?, ?)');
    const pii = '{"confidentiality":"secret","integrity":"low","tags":["pii"],"locations":[]}';
    insert.run('/srv/f', '["file://n/a"]', pii, `${span.traceId}-${span.spanId}-01`, 1);
    insert.run('/srv/g', '["file://n/a","file://n/b"]', pii, null, 2);
    insert.run('/srv/h', '["file://n/b","file://n/a"]', pii, null, 3);
    insert.run('/srv/bad', '{"not":"a list"}', '[]', null, 4);
    old.close();
    const store = open(stateDir);
    expect(store.get(inode('/srv/f', '9'))).toEqual({
      ...from(['file://n/a'], 'secret', 'low', ['pii']),
      writeSpan: { ...span, isRemote: true },
    });
    expect(store.get(at('/srv/g'))).toEqual(from(['file://n/a', 'file://n/b'], 'secret', 'low', ['pii']));
    expect(store.get(at('/srv/h'))).toEqual(from(['file://n/a', 'file://n/b'], 'secret', 'low', ['pii']));
    expect(store.get(at('/srv/bad'))?.labels).toEqual({
      confidentiality: '(unreadable)',
      integrity: '(unreadable)',
      tags: [],
      locations: [],
    });
    const db = new DatabaseSync(path.join(stateDir, 'provenance.db'), { readOnly: true });
    expect(db.prepare('PRAGMA user_version').get()).toEqual({ user_version: 3 });
    // g and h hold one set, stored as what it adds to f's; the old table is gone.
    expect(db.prepare('SELECT parent IS NOT NULL AS delta, added FROM provenance_sets ORDER BY id').all()).toEqual([
      { delta: 0, added: '["file://n/a"]' },
      { delta: 1, added: '["file://n/b"]' },
      { delta: 0, added: '[]' },
    ]);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'file_provenance'").all()).toEqual([]);
    db.close();
  });

  it('migrates a schema 2 database (inode keys, hard-link names) to interned sets on open', () => {
    const stateDir = tempDir();
    const old = new DatabaseSync(path.join(stateDir, 'provenance.db'));
    old.exec(`CREATE TABLE file_provenance (path TEXT PRIMARY KEY, sources TEXT NOT NULL, labels TEXT NOT NULL,
      write_span TEXT, updated_at INTEGER NOT NULL, names TEXT) WITHOUT ROWID; PRAGMA user_version = 2`);
    old
      .prepare('INSERT INTO file_provenance VALUES (?, ?, ?, NULL, 0, ?)')
      .run('inode:1:7', '["file://n/a"]', '{"confidentiality":"internal","integrity":"high","tags":[],"locations":["eu"]}', '["/x","/y"]');
    old.close();
    const store = open(stateDir);
    expect(store.get(inode('/x', '7', 2))).toEqual({
      sources: ['file://n/a'],
      labels: { confidentiality: 'internal', integrity: 'high', tags: [], locations: ['eu'] },
      names: ['/x', '/y'],
    });
  });

  it('reads a malformed or forged set as unknown, most restrictive levels instead of no provenance', () => {
    const stateDir = tempDir();
    open(stateDir).close();
    const db = new DatabaseSync(path.join(stateDir, 'provenance.db'));
    const forge = db.prepare('INSERT INTO provenance_sets (id, digest, parent, added, labels) VALUES (?, randomblob(32), ?, ?, ?)');
    forge.run(1, null, '{"not":"a list"}', '[]');
    // A chain that loops back on itself.
    forge.run(2, 3, '["file://n/a"]', '{"confidentiality":"public","integrity":"high","tags":[],"locations":[]}');
    forge.run(3, 2, '["file://n/b"]', '{"confidentiality":"public","integrity":"high","tags":[],"locations":[]}');
    const file = db.prepare('INSERT INTO file_records (path, set_id, updated_at) VALUES (?, ?, 0)');
    file.run('/f', 1);
    file.run('/g', 2);
    file.run('/h', 99);
    db.close();
    const store = open(stateDir);
    const unreadable = { confidentiality: '(unreadable)', integrity: '(unreadable)', tags: [], locations: [] };
    expect(store.get(at('/f'))?.labels).toEqual(unreadable);
    expect(store.get(at('/g'))?.labels).toEqual(unreadable);
    expect(store.get(at('/h'))?.labels).toEqual(unreadable);
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
