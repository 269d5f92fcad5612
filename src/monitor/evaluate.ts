/**
 * Bottom-up, semi-naive evaluation of an analysed program, stratum by stratum (stratified
 * negation: a negated relation is complete before any clause reads it). Each round joins only
 * against the tuples the previous round added (the delta), so a fixpoint costs about one pass
 * per derived tuple rather than one per round. Every derived tuple keeps its first derivation
 * (clause, bindings, premises), which is well-founded and is what a proof tree prints.
 */
import type { AnalysedProgram } from './analyse.js';
import { Model, tupleKey, type Bindings, type Derivation, type Entry, type InputTuple, type TupleRef } from './model.js';
import { ANONYMOUS, type Atom, type Clause, type Literal, type Term } from './syntax.js';

/** The least fixpoint of `program` over `facts`, with `within` measured back from `now`. */
export function evaluate(program: AnalysedProgram, facts: Iterable<InputTuple>, now: number): Model {
  const model = new Model();
  for (const fact of facts) model.add(fact.relation, { values: fact.values, time: fact.time, fact: fact.fact });
  for (const stratum of program.strata) evaluateStratum(stratum, model, now);
  return model;
}

/**
 * Whether `goal` holds, computing only what it needs when its relation is concluded by clauses
 * no body reads (a monitored action): every other relation to its fixpoint, then the goal's own
 * clauses joined from the goal's values (a bound action argument narrows each lookup to a few
 * facts, instead of deriving the action for every mission known). Other goals: the full fixpoint.
 * The model gets the goal's first derivation, so proofs read it like any derived tuple.
 */
export function evaluateGoal(program: AnalysedProgram, facts: Iterable<InputTuple>, goal: TupleRef, now: number): Model {
  const readInBodies = program.clauses.some((clause) => clause.body.some((l) => l.kind === 'atom' && l.atom.relation === goal.relation));
  if (readInBodies) return evaluate(program, facts, now);
  const reads = relationsRead(program);
  const model = new Model();
  for (const fact of facts)
    if (reads.has(fact.relation)) model.add(fact.relation, { values: fact.values, time: fact.time, fact: fact.fact });
  for (const stratum of program.strata) {
    const helpers = stratum.filter((clause) => clause.head.relation !== goal.relation);
    if (helpers.length > 0) evaluateStratum(helpers, model, now);
  }
  for (const clause of program.clauses) {
    if (clause.head.relation !== goal.relation || model.has(goal.relation, goal.values)) continue;
    const start = match(clause.head.args, goal.values, {});
    if (start === undefined) continue;
    join(
      clause,
      joinOrder(clause.body),
      model,
      now,
      undefined,
      (bindings, premises) => {
        if (!model.has(goal.relation, goal.values))
          model.add(goal.relation, { values: goal.values, derivation: { clause, bindings, premises } });
      },
      start,
    );
  }
  return model;
}

/** Whether the only clauses of `program` are the ones concluding `relation` (no helper relations). */
export function concludesOnly(program: AnalysedProgram, relation: string): boolean {
  return program.clauses.every(
    (clause) => clause.head.relation === relation && clause.body.every((l) => l.kind !== 'atom' || l.atom.relation !== relation),
  );
}

/**
 * The first derivation of `goal` by its clauses over stored facts already in `model` (which is
 * not changed, so one model of a process's facts serves every request). For programs where
 * `concludesOnly(program, goal.relation)`.
 */
export function deriveGoal(program: AnalysedProgram, model: Model, goal: TupleRef, now: number): Derivation | undefined {
  for (const clause of program.clauses) {
    const start = match(clause.head.args, goal.values, {});
    if (start === undefined) continue;
    let found: Derivation | undefined;
    join(clause, joinOrder(clause.body), model, now, undefined, (bindings, premises) => (found ??= { clause, bindings, premises }), start);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Relations some clause body reads: stored facts of any other relation cannot matter. */
function relationsRead(program: AnalysedProgram): Set<string> {
  const reads = new Set<string>();
  for (const clause of program.clauses) for (const literal of clause.body) if (literal.kind === 'atom') reads.add(literal.atom.relation);
  return reads;
}

function evaluateStratum(clauses: readonly Clause[], model: Model, now: number): void {
  const local = new Set(clauses.map((clause) => clause.head.relation));
  const plans = clauses.map((clause) => ({ clause, order: joinOrder(clause.body) }));
  let delta: Pending = new Map();
  const derive = (clause: Clause, bindings: Bindings, premises: readonly TupleRef[], into: Pending): void => {
    const values = clause.head.args.map((term) => valueOf(term, bindings));
    if (model.has(clause.head.relation, values)) return;
    let pending = into.get(clause.head.relation);
    if (pending === undefined) {
      pending = new Map();
      into.set(clause.head.relation, pending);
    }
    const key = tupleKey(values);
    if (!pending.has(key)) pending.set(key, { values, derivation: { clause, bindings, premises } });
  };
  for (const { clause, order } of plans) join(clause, order, model, now, undefined, (b, p) => derive(clause, b, p, delta));
  commit(model, delta);
  while (delta.size > 0) {
    const next: Pending = new Map();
    for (const { clause, order } of plans) {
      clause.body.forEach((literal, position) => {
        if (literal.kind !== 'atom' || literal.negated || !local.has(literal.atom.relation)) return;
        const changed = delta.get(literal.atom.relation);
        if (changed === undefined) return;
        join(clause, order, model, now, { position, entries: [...changed.values()] }, (b, p) => derive(clause, b, p, next));
      });
    }
    commit(model, next);
    delta = next;
  }
}

/** Tuples a round derived, by relation and key, added to the model when the round ends. */
type Pending = Map<string, Map<string, Entry>>;

function commit(model: Model, pending: Pending): void {
  for (const [relation, entries] of pending) for (const entry of entries.values()) model.add(relation, entry);
}

/** Positive facts first in written order, then negations and comparisons (their variables are bound by then). */
function joinOrder(body: readonly Literal[]): number[] {
  const positive = body.flatMap((literal, i) => (literal.kind === 'atom' && !literal.negated ? [i] : []));
  const rest = body.flatMap((literal, i) => (literal.kind === 'atom' && !literal.negated ? [] : [i]));
  return [...positive, ...rest];
}

interface DeltaSlot {
  readonly position: number;
  readonly entries: readonly Entry[];
}

type Emit = (bindings: Bindings, premises: readonly TupleRef[]) => void;

/** Every way the body holds in `model`; the literal at `delta.position` ranges over `delta.entries` only. */
function join(
  clause: Clause,
  order: readonly number[],
  model: Model,
  now: number,
  delta: DeltaSlot | undefined,
  emit: Emit,
  start: Bindings = {},
): void {
  const premises: (TupleRef | undefined)[] = new Array<TupleRef | undefined>(clause.body.length);
  const step = (k: number, bindings: Bindings): void => {
    if (k === order.length) {
      emit(
        bindings,
        premises.filter((p): p is TupleRef => p !== undefined),
      );
      return;
    }
    const position = order[k];
    const literal = clause.body[position];
    if (literal.kind === 'compare') {
      const equal = valueOf(literal.left, bindings) === valueOf(literal.right, bindings);
      if (equal === (literal.op === '=')) step(k + 1, bindings);
      return;
    }
    if (literal.negated) {
      if (!anyMatch(literal.atom, model, bindings)) step(k + 1, bindings);
      return;
    }
    const candidates = delta?.position === position ? delta.entries : candidatesFor(literal.atom, model, bindings);
    const oldest = literal.withinMs === undefined ? undefined : now - literal.withinMs;
    for (const entry of candidates) {
      if (oldest !== undefined && (entry.time ?? -Infinity) < oldest) continue;
      const extended = match(literal.atom.args, entry.values, bindings);
      if (extended === undefined) continue;
      premises[position] = { relation: literal.atom.relation, values: entry.values };
      step(k + 1, extended);
    }
    premises[position] = undefined;
  };
  step(0, start);
}

export function candidatesFor(atom: Atom, model: Model, bindings: Bindings): Iterable<Entry> {
  // The smallest index bucket among the bound positions: a constant principal (`attested(broker,
  // ...)`) matches every fact of that principal, the bound booking id only a few.
  let best: ReadonlySet<Entry> | undefined;
  for (let position = 0; position < atom.args.length; position++) {
    const value = boundValue(atom.args[position], bindings);
    if (value === undefined) continue;
    const bucket = model.lookup(atom.relation, position, value);
    if (best === undefined || bucket.size < best.size) best = bucket;
    if (best.size <= 1) break;
  }
  return best ?? model.entries(atom.relation);
}

function anyMatch(atom: Atom, model: Model, bindings: Bindings): boolean {
  for (const entry of candidatesFor(atom, model, bindings)) if (match(atom.args, entry.values, bindings) !== undefined) return true;
  return false;
}

/** `bindings` extended so that `args` equal `values`, or undefined when they cannot. */
export function match(args: readonly Term[], values: readonly string[], bindings: Bindings): Bindings | undefined {
  let out: Record<string, string> | undefined;
  for (let i = 0; i < args.length; i++) {
    const term = args[i];
    const value = values[i];
    if (term.kind === 'const') {
      if (term.value !== value) return undefined;
      continue;
    }
    if (term.name === ANONYMOUS) continue;
    const known = out?.[term.name] ?? bindings[term.name];
    if (known === undefined) {
      out ??= { ...bindings };
      out[term.name] = value;
    } else if (known !== value) return undefined;
  }
  return out ?? bindings;
}

function boundValue(term: Term, bindings: Bindings): string | undefined {
  if (term.kind === 'const') return term.value;
  return term.name === ANONYMOUS ? undefined : bindings[term.name];
}

/** A term's value under bindings that bind it (analysis guarantees they do). */
export function valueOf(term: Term, bindings: Bindings): string {
  const value = boundValue(term, bindings);
  if (value === undefined) throw new Error(`internal: ${term.kind === 'var' ? term.name : '?'} is unbound`);
  return value;
}
