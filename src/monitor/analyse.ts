/**
 * Static checks that make a program safe to evaluate, and its evaluation order:
 * - arity: a relation is used with one number of arguments everywhere;
 * - safety (range restriction): every variable of a head, a negated fact or a comparison also
 *   occurs in a positive fact of the same body, so every answer is finite and grounded in facts;
 * - `within` bounds only stored facts (relations no clause derives), whose times are known;
 * - stratification: no relation depends on its own negation, so negation has one meaning; the
 *   strata come out in dependency order (a relation's stratum after those it depends on).
 */
import { ANONYMOUS, formatAtom, RuleError, type Atom, type Clause, type Literal, type Program, type Term } from './syntax.js';

export interface AnalysedProgram extends Program {
  /** Clauses grouped by stratum, lowest first. */
  readonly strata: readonly (readonly Clause[])[];
  /** Relations some clause derives. */
  readonly derived: ReadonlySet<string>;
}

export function analyseProgram(program: Program): AnalysedProgram {
  checkArities(program);
  const derived = new Set(program.clauses.map((clause) => clause.head.relation));
  for (const clause of program.clauses) checkClause(clause, derived);
  return { ...program, strata: stratify(program, derived), derived };
}

function checkArities(program: Program): void {
  const arities = new Map<string, number>();
  const visit = (atom: Atom): void => {
    const known = arities.get(atom.relation);
    if (known === undefined) arities.set(atom.relation, atom.args.length);
    else if (known !== atom.args.length) {
      throw new RuleError(
        `${formatAtom(atom)} has ${atom.args.length} argument(s) but ${atom.relation} is used with ${known} elsewhere`,
        atom.at,
      );
    }
  };
  for (const clause of program.clauses) {
    visit(clause.head);
    for (const literal of clause.body) if (literal.kind === 'atom') visit(literal.atom);
  }
}

function variables(terms: readonly Term[]): string[] {
  return terms.flatMap((term) => (term.kind === 'var' && term.name !== ANONYMOUS ? [term.name] : []));
}

function checkClause(clause: Clause, derived: ReadonlySet<string>): void {
  const bound = new Set<string>();
  for (const literal of clause.body)
    if (literal.kind === 'atom' && !literal.negated) for (const name of variables(literal.atom.args)) bound.add(name);
  for (const term of clause.head.args) {
    if (term.kind === 'var' && term.name === ANONYMOUS)
      throw new RuleError(`"_" cannot appear in the head ${formatAtom(clause.head)}`, clause.head.at);
  }
  for (const name of variables(clause.head.args)) {
    if (!bound.has(name)) {
      throw new RuleError(
        `unsafe rule: ${name} in the head ${formatAtom(clause.head)} does not occur in a positive fact of its body`,
        clause.head.at,
      );
    }
  }
  for (const literal of clause.body) checkLiteral(literal, bound, derived);
}

function checkLiteral(literal: Literal, bound: ReadonlySet<string>, derived: ReadonlySet<string>): void {
  if (literal.kind === 'compare') {
    for (const name of variables([literal.left, literal.right])) {
      if (!bound.has(name))
        throw new RuleError(`unsafe rule: ${name} in a comparison does not occur in a positive fact of the body`, literal.at);
    }
    if ([literal.left, literal.right].some((term) => term.kind === 'var' && term.name === ANONYMOUS)) {
      throw new RuleError('"_" cannot be compared', literal.at);
    }
    return;
  }
  if (literal.negated) {
    for (const name of variables(literal.atom.args)) {
      if (!bound.has(name)) {
        throw new RuleError(
          `unsafe rule: ${name} in "not ${formatAtom(literal.atom)}" does not occur in a positive fact of the body`,
          literal.atom.at,
        );
      }
    }
  }
  if (literal.withinMs !== undefined && derived.has(literal.atom.relation)) {
    throw new RuleError(`"within" bounds only stored facts, and ${literal.atom.relation} is derived by a rule`, literal.atom.at);
  }
}

interface Dependency {
  readonly to: string;
  readonly negated: boolean;
  readonly at: number;
}

function stratify(program: Program, derived: ReadonlySet<string>): Clause[][] {
  const graph = new Map<string, Dependency[]>();
  for (const relation of derived) graph.set(relation, []);
  for (const clause of program.clauses) {
    const edges = graph.get(clause.head.relation) as Dependency[];
    for (const literal of clause.body) {
      if (literal.kind === 'atom' && derived.has(literal.atom.relation)) {
        edges.push({ to: literal.atom.relation, negated: literal.negated, at: literal.atom.at });
      }
    }
  }
  const components = stronglyConnected(graph);
  const componentOf = new Map<string, number>();
  components.forEach((members, index) => {
    for (const member of members) componentOf.set(member, index);
  });
  for (const [from, edges] of graph) {
    for (const edge of edges) {
      if (edge.negated && componentOf.get(from) === componentOf.get(edge.to)) {
        const cycle =
          from === edge.to
            ? `${from} depends on its own negation`
            : `${from} depends on "not ${edge.to}" while ${edge.to} depends on ${from}`;
        throw new RuleError(`not stratifiable: ${cycle} (recursion through negation has no single meaning)`, edge.at);
      }
    }
  }
  // Tarjan emits a component after every component it depends on: that order is the strata's.
  return components
    .map((members) => program.clauses.filter((clause) => members.includes(clause.head.relation)))
    .filter((s) => s.length > 0);
}

/** Tarjan's algorithm; components come out dependencies first. */
function stronglyConnected(graph: ReadonlyMap<string, readonly Dependency[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let next = 0;
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next++;
    stack.push(node);
    onStack.add(node);
    for (const { to } of graph.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node) as number, low.get(to) as number));
      } else if (onStack.has(to)) low.set(node, Math.min(low.get(node) as number, index.get(to) as number));
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string | undefined;
      while (member !== node && (member = stack.pop()) !== undefined) {
        onStack.delete(member);
        component.push(member);
      }
      out.push(component);
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return out;
}
