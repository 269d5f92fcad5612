/**
 * Why a goal holds (its proof tree, down to the stored facts it rests on) or why it does not (the
 * first premise no fact satisfies, with the facts that did match before it).
 */
import type { AnalysedProgram } from './analyse.js';
import { candidatesFor, match, valueOf } from './evaluate.js';
import type { Bindings, Derivation, Model, TupleRef } from './model.js';
import { formatLiteral, formatTuple, formatConstant, formatDuration, type Clause, type Literal, type Term } from './syntax.js';

export interface ProofNode {
  /** The tuple as written in the rule language, e.g. `attested(broker, booking_confirmed(b1))`. */
  readonly statement: string;
  /** Stored facts: the id of the fact the tuple comes from. */
  readonly fact?: string;
  /** Premises of a derived tuple. */
  readonly premises: readonly ProofNode[];
  /** Negations and comparisons that held, instantiated (e.g. `not revoked(b1)`). */
  readonly conditions: readonly string[];
}

export function statementOf(ref: TupleRef): string {
  return formatTuple(ref.relation, ref.values.map(formatConstant));
}

/** The proof tree of a tuple the model holds. */
export function proofOf(model: Model, ref: TupleRef): ProofNode {
  const entry = model.get(ref.relation, ref.values);
  if (entry === undefined) throw new Error(`internal: ${statementOf(ref)} is not in the model`);
  if (entry.derivation !== undefined) return proofOfDerivation(model, ref, entry.derivation);
  const statement = statementOf(ref);
  return entry.fact === undefined
    ? { statement, premises: [], conditions: [] }
    : { statement, fact: entry.fact, premises: [], conditions: [] };
}

/** The proof tree of `ref` derived by `derivation` over the tuples of `model`. */
export function proofOfDerivation(model: Model, ref: TupleRef, derivation: Derivation): ProofNode {
  return {
    statement: statementOf(ref),
    premises: derivation.premises.map((premise) => proofOf(model, premise)),
    conditions: derivation.clause.body.filter((l) => l.kind === 'compare' || l.negated).map((l) => instantiate(l, derivation.bindings)),
  };
}

/** The ids of the stored facts a proof rests on, each once, in proof order. */
export function factsOf(proof: ProofNode): string[] {
  const out = new Set<string>();
  const visit = (node: ProofNode): void => {
    if (node.fact !== undefined) out.add(node.fact);
    node.premises.forEach(visit);
  };
  visit(proof);
  return [...out];
}

export interface MissingPremise {
  /** The premise as written, instantiated as far as the matched premises bind it. */
  readonly premise: string;
  /** Why it fails, when more can be said than "no such fact" (a fact too old for `within`). */
  readonly detail?: string;
  /** Stored facts that matched the premises before it. */
  readonly matched: readonly string[];
}

/**
 * The premise a goal fails on: over every clause for the goal's relation, the search that gets
 * furthest through the body names the literal it stops at. Undefined when the goal holds.
 */
export function missingPremise(program: AnalysedProgram, model: Model, goal: TupleRef, now: number): MissingPremise | undefined {
  if (model.has(goal.relation, goal.values)) return undefined;
  let best: { depth: number; missing: MissingPremise } | undefined;
  for (const clause of program.clauses) {
    if (clause.head.relation !== goal.relation) continue;
    const start = match(clause.head.args, goal.values, {});
    if (start === undefined) continue;
    const found = deepestFailure(clause, model, start, now);
    if (best === undefined || found.depth > best.depth) best = found;
  }
  return best?.missing ?? { premise: statementOf(goal), detail: `no rule concludes ${goal.relation}`, matched: [] };
}

function deepestFailure(clause: Clause, model: Model, start: Bindings, now: number): { depth: number; missing: MissingPremise } {
  const order = [...clause.body.keys()].sort((a, b) => rank(clause.body[a]) - rank(clause.body[b]));
  let best: { depth: number; missing: MissingPremise } | undefined;
  const matched: string[] = [];
  const fail = (depth: number, literal: Literal, bindings: Bindings, detail?: string): void => {
    if (best !== undefined && best.depth >= depth) return;
    const premise = instantiate(literal, bindings);
    best = { depth, missing: detail === undefined ? { premise, matched: [...matched] } : { premise, detail, matched: [...matched] } };
  };
  const step = (k: number, bindings: Bindings): void => {
    if (k === order.length) return;
    const literal = clause.body[order[k]];
    if (literal.kind === 'compare') {
      const equal = valueOf(literal.left, bindings) === valueOf(literal.right, bindings);
      if (equal === (literal.op === '=')) step(k + 1, bindings);
      else fail(k, literal, bindings);
      return;
    }
    const candidates = [...candidatesFor(literal.atom, model, bindings)].flatMap((entry) => {
      const extended = match(literal.atom.args, entry.values, bindings);
      return extended === undefined ? [] : [{ entry, extended }];
    });
    if (literal.negated) {
      if (candidates.length === 0) step(k + 1, bindings);
      else
        fail(
          k,
          literal,
          bindings,
          `${statementOf({ relation: literal.atom.relation, values: (candidates[0] as { entry: { values: readonly string[] } }).entry.values })} holds`,
        );
      return;
    }
    const oldest = literal.withinMs === undefined ? undefined : now - literal.withinMs;
    const fresh = oldest === undefined ? candidates : candidates.filter(({ entry }) => (entry.time ?? -Infinity) >= oldest);
    if (fresh.length === 0) {
      const stale = candidates[0];
      const detail =
        stale !== undefined && stale.entry.time !== undefined
          ? `the newest matching fact is ${formatDuration(Math.max(0, now - newest(candidates)))} old, beyond ${formatDuration(literal.withinMs as number)}`
          : undefined;
      fail(k, literal, bindings, detail);
      return;
    }
    for (const { entry, extended } of fresh) {
      if (entry.fact !== undefined) matched.push(entry.fact);
      step(k + 1, extended);
      if (entry.fact !== undefined) matched.pop();
    }
  };
  step(0, start);
  return best ?? { depth: order.length, missing: { premise: 'the rule', matched: [] } };
}

function newest(candidates: readonly { entry: { time?: number } }[]): number {
  return Math.max(...candidates.map(({ entry }) => entry.time ?? -Infinity));
}

function rank(literal: Literal): number {
  return literal.kind === 'atom' && !literal.negated ? 0 : 1;
}

/** A literal with its bound variables replaced by their values. */
function instantiate(literal: Literal, bindings: Bindings): string {
  const ground = (term: Term): Term =>
    term.kind === 'var' && bindings[term.name] !== undefined ? { kind: 'const', value: bindings[term.name] } : term;
  if (literal.kind === 'compare') return formatLiteral({ ...literal, left: ground(literal.left), right: ground(literal.right) });
  return formatLiteral({ ...literal, atom: { ...literal.atom, args: literal.atom.args.map(ground) } });
}
