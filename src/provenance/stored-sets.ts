/**
 * Interned provenance sets in the node-local store (schema 3). A file's row names a set; a set is
 * stored once per distinct (sources, labels), found again by a digest of both, and kept as the
 * sources it adds to a parent set it contains. One context touching N files writes N sets that
 * each add one source to the previous one: O(N) rows of O(1) size, where a full list per file was
 * O(N²) on disk. Reading a set walks its parent chain up to a set the caller already holds.
 */
import { createHash } from 'node:crypto';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { diag } from '@opentelemetry/api';
import { sortedUnique, unionSorted, type PublicLabels } from './labels.js';
import { isStringArray, readLabels, UNREADABLE_LABELS } from './stored-provenance.js';

/** What a set is: sorted unique sources and derived labels, as stored. */
export interface StoredSet {
  readonly sources: string[];
  readonly labels: PublicLabels;
}

/** A set that may serve as the parent of a new one: its id and what it holds. */
export interface KnownSet {
  readonly id: number;
  readonly set: StoredSet;
}

interface SetRow {
  parent: number | null;
  added: string;
  labels: string;
}

export class SetTable {
  private readonly select: StatementSync;
  private readonly byDigest: StatementSync;
  private readonly insert: StatementSync;

  constructor(db: DatabaseSync) {
    this.select = db.prepare('SELECT parent, added, labels FROM provenance_sets WHERE id = ?');
    this.byDigest = db.prepare('SELECT id FROM provenance_sets WHERE digest = ?');
    this.insert = db.prepare('INSERT INTO provenance_sets (digest, parent, added, labels) VALUES (?, ?, ?, ?) RETURNING id');
  }

  /**
   * The id of `set`, stored now if it is new: as the sources it adds to the largest candidate
   * it contains, or in full when none does. Call inside a write transaction.
   */
  intern(set: StoredSet, candidates: readonly (KnownSet | undefined)[]): number {
    const digest = digestOf(set);
    const existing = this.byDigest.get(digest) as { id: number } | undefined;
    if (existing !== undefined) return existing.id;
    let parent: KnownSet | undefined;
    for (const candidate of candidates) {
      if (candidate === undefined || (parent !== undefined && candidate.set.sources.length <= parent.set.sources.length)) continue;
      if (isSubset(candidate.set.sources, set.sources)) parent = candidate;
    }
    const added = parent === undefined ? set.sources : difference(set.sources, parent.set.sources);
    const row = this.insert.get(digest, parent?.id ?? null, JSON.stringify(added), JSON.stringify(set.labels)) as { id: number };
    return row.id;
  }

  /**
   * The set `id` names. `known(id)` returns sets already materialised (a cache), where the walk up
   * the parent chain stops. A missing, malformed or cyclic chain reads as the most restrictive
   * labels, never as "no provenance".
   */
  load(id: number, known: (id: number) => StoredSet | undefined): StoredSet {
    const added: string[] = [];
    const seen = new Set<number>();
    let labels: PublicLabels | undefined;
    let base: readonly string[] = [];
    for (let next: number | null = id; next !== null;) {
      const cached = next === id ? undefined : known(next);
      if (cached !== undefined) {
        base = cached.sources;
        break;
      }
      const row: SetRow | undefined = seen.has(next) ? undefined : (this.select.get(next) as SetRow | undefined);
      const parsed = row === undefined ? undefined : parseJson(row.added);
      if (row === undefined || !isStringArray(parsed)) return unreadable(id);
      if (labels === undefined && (labels = readLabels(parseJson(row.labels))) === undefined) return unreadable(id);
      seen.add(next);
      for (const source of parsed) added.push(source);
      next = row.parent;
    }
    return { sources: [...unionSorted(base, sortedUnique(added))], labels: labels as PublicLabels };
  }
}

function digestOf(set: StoredSet): Buffer {
  const { confidentiality, integrity, tags, locations } = set.labels;
  return createHash('sha256')
    .update(JSON.stringify([confidentiality, integrity, tags, locations, set.sources]))
    .digest();
}

/** Both sorted: every element of `a` is in `b`. */
function isSubset(a: readonly string[], b: readonly string[]): boolean {
  if (a.length > b.length) return false;
  let j = 0;
  for (const item of a) {
    while (j < b.length && b[j] < item) j++;
    if (b[j] !== item) return false;
    j++;
  }
  return true;
}

/** Both sorted: the elements of `a` not in `b`. */
function difference(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = [];
  let j = 0;
  for (const item of a) {
    while (j < b.length && b[j] < item) j++;
    if (b[j] !== item) out.push(item);
  }
  return out;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function unreadable(id: number): StoredSet {
  diag.warn(`provenant: provenance set ${id} in the node-local store is malformed; it is read as the most restrictive labels`);
  return { sources: [], labels: UNREADABLE_LABELS };
}
