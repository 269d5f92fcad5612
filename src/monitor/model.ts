/**
 * The tuples of a fixpoint: stored facts and derived tuples per relation, each derived one with
 * its first derivation, and per-position indexes built on first use and kept up to date.
 */
import type { Clause } from './syntax.js';

/** A stored fact as the evaluator sees it: a relation's tuple with the fact's time and id. */
export interface InputTuple {
  readonly relation: string;
  readonly values: readonly string[];
  /** Milliseconds since the epoch (for `within`). */
  readonly time: number;
  /** Id of the fact the tuple comes from. */
  readonly fact: string;
}

export type Bindings = Readonly<Record<string, string>>;

export interface TupleRef {
  readonly relation: string;
  readonly values: readonly string[];
}

export interface Derivation {
  readonly clause: Clause;
  readonly bindings: Bindings;
  /** The positive premises, in body order. */
  readonly premises: readonly TupleRef[];
}

export interface Entry {
  readonly values: readonly string[];
  /** Stored facts: the newest fact's time and id. */
  readonly time?: number;
  readonly fact?: string;
  /** Derived tuples: how they were first derived. */
  readonly derivation?: Derivation;
}

export function tupleKey(values: readonly string[]): string {
  return values.join('\u001f');
}

/** The relations of a fixpoint, with indexes built on first use and kept up to date. */
export class Model {
  private readonly relations = new Map<string, Map<string, Entry>>();
  private readonly indexes = new Map<string, Map<string, Set<Entry>>>();

  get(relation: string, values: readonly string[]): Entry | undefined {
    return this.relations.get(relation)?.get(tupleKey(values));
  }

  has(relation: string, values: readonly string[]): boolean {
    return this.get(relation, values) !== undefined;
  }

  entries(relation: string): Iterable<Entry> {
    return this.relations.get(relation)?.values() ?? [];
  }

  /** Entries whose value at `position` is `value`. */
  lookup(relation: string, position: number, value: string): ReadonlySet<Entry> {
    const name = `${relation}\u001e${position}`;
    let index = this.indexes.get(name);
    if (index === undefined) {
      index = new Map();
      for (const entry of this.entries(relation)) pushTo(index, entry.values[position], entry);
      this.indexes.set(name, index);
    }
    return index.get(value) ?? NO_ENTRIES;
  }

  /** Adds a tuple unless present; a stored fact seen again keeps the newest time. Returns the entry when new. */
  add(relation: string, entry: Entry): Entry | undefined {
    let tuples = this.relations.get(relation);
    if (tuples === undefined) {
      tuples = new Map();
      this.relations.set(relation, tuples);
    }
    const key = tupleKey(entry.values);
    const known = tuples.get(key);
    if (known !== undefined) {
      if (entry.time !== undefined && (known.time === undefined || entry.time > known.time)) {
        const newer = { ...known, time: entry.time, fact: entry.fact };
        tuples.set(key, newer);
        this.reindex(relation, known, newer);
      }
      return undefined;
    }
    tuples.set(key, entry);
    this.reindex(relation, undefined, entry);
    return entry;
  }

  /** Removes a stored fact's tuple, unless a newer fact now stands for it. */
  remove(relation: string, values: readonly string[], fact: string): void {
    const tuples = this.relations.get(relation);
    const key = tupleKey(values);
    const known = tuples?.get(key);
    if (known === undefined || known.fact !== fact) return;
    tuples?.delete(key);
    this.reindex(relation, known, undefined);
  }

  /** Keeps the built indexes in step: `before` leaves them, `after` joins them. */
  private reindex(relation: string, before: Entry | undefined, after: Entry | undefined): void {
    const entry = (after ?? before) as Entry;
    for (let position = 0; position < entry.values.length; position++) {
      const index = this.indexes.get(`${relation}\u001e${position}`);
      if (index === undefined) continue;
      const value = entry.values[position];
      // Sets: a bucket may hold every fact of one principal, and changes must not copy it.
      const bucket = index.get(value);
      if (before !== undefined) bucket?.delete(before);
      if (after !== undefined) pushTo(index, value, after);
      else if (bucket?.size === 0) index.delete(value);
    }
  }
}

const NO_ENTRIES: ReadonlySet<Entry> = new Set();

function pushTo(index: Map<string, Set<Entry>>, key: string, entry: Entry): void {
  const bucket = index.get(key);
  if (bucket === undefined) index.set(key, new Set([entry]));
  else bucket.add(entry);
}
