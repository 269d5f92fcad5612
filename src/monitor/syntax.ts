/**
 * The rule language's syntax tree. Datalog with a few additions: a clause may carry an effect
 * (`permit` / `deny`: the monitored action), `attested(P, f(args))` names a fact signed by principal
 * P, `not` is stratified negation, `within 10m` bounds a fact's age, and `X != Y` / `X = Y` compare
 * bound values. Every node keeps the offset where it is written, so errors point into the rule.
 */

export type Term = { readonly kind: 'var'; readonly name: string } | { readonly kind: 'const'; readonly value: string };

/** `_`: matches anything and binds nothing (each occurrence is its own). */
export const ANONYMOUS = '_';

/**
 * Relation name of an attested fact: `attested(P, f(X))` reads relation `attested:f` with the
 * principal as its first column; a bare `f(X)` reads relation `f` (any principal, or derived).
 */
export function attestedRelation(name: string): string {
  return `attested:${name}`;
}

export interface Atom {
  /** Relation name (`attested:f` for attested facts). */
  readonly relation: string;
  readonly args: readonly Term[];
  /** Offset of the atom in the source text. */
  readonly at: number;
}

export interface AtomLiteral {
  readonly kind: 'atom';
  readonly atom: Atom;
  readonly negated: boolean;
  /** Only facts at most this many milliseconds older than the evaluation time match. */
  readonly withinMs?: number;
}

export interface Comparison {
  readonly kind: 'compare';
  readonly op: '=' | '!=';
  readonly left: Term;
  readonly right: Term;
  readonly at: number;
}

export type Literal = AtomLiteral | Comparison;

export type Effect = 'permit' | 'deny';

export interface Clause {
  readonly head: Atom;
  readonly body: readonly Literal[];
  /** Present on the clause that names the monitored action. */
  readonly effect?: Effect;
  readonly at: number;
}

export interface Program {
  readonly clauses: readonly Clause[];
}

/** A problem in rule text, at an offset into it (the config loader turns it into file:line:col). */
export class RuleError extends Error {
  constructor(
    readonly problem: string,
    readonly offset: number,
  ) {
    super(problem);
    this.name = 'RuleError';
  }
}

function formatTerm(term: Term): string {
  if (term.kind === 'var') return term.name;
  return /^[a-z][A-Za-z0-9_-]*$|^-?\d+(\.\d+)?$/.test(term.value) ? term.value : JSON.stringify(term.value);
}

/** An atom as written: `f(a, B)` or `attested(p, f(a, B))`. */
export function formatAtom(atom: Atom): string {
  return formatTuple(atom.relation, atom.args.map(formatTerm));
}

/** A relation and its (formatted) values as written in the rule language. */
export function formatTuple(relation: string, values: readonly string[]): string {
  if (relation.startsWith('attested:')) {
    const [principal, ...rest] = values;
    return `attested(${principal ?? '_'}, ${relation.slice('attested:'.length)}(${rest.join(', ')}))`;
  }
  return `${relation}(${values.join(', ')})`;
}

export function formatConstant(value: string): string {
  return formatTerm({ kind: 'const', value });
}

export function formatLiteral(literal: Literal): string {
  if (literal.kind === 'compare') return `${formatTerm(literal.left)} ${literal.op} ${formatTerm(literal.right)}`;
  const text = `${literal.negated ? 'not ' : ''}${formatAtom(literal.atom)}`;
  return literal.withinMs === undefined ? text : `${text} within ${formatDuration(literal.withinMs)}`;
}

const UNITS: readonly [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];

export function durationUnits(): readonly [string, number][] {
  return UNITS;
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of UNITS) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}
