// A deliberately simple evaluator for the property test: every round applies every clause of a
// stratum to everything known until nothing changes. It shares no evaluation code with
// src/monitor/evaluate.ts (only the parsed program and its strata).
import type { AnalysedProgram } from '../../src/monitor/analyse.js';
import type { InputTuple } from '../../src/monitor/model.js';
import type { Literal, Term } from '../../src/monitor/syntax.js';

type Tuples = Map<string, Map<string, { values: string[]; time: number }>>;

function put(db: Tuples, relation: string, values: string[], time: number): boolean {
  let rel = db.get(relation);
  if (!rel) {
    rel = new Map<string, { values: string[]; time: number }>();
    db.set(relation, rel);
  }
  const key = JSON.stringify(values);
  const known = rel.get(key);
  if (known) {
    known.time = Math.max(known.time, time);
    return false;
  }
  rel.set(key, { values, time });
  return true;
}

function unify(args: readonly Term[], values: readonly string[], env: Map<string, string>): Map<string, string> | undefined {
  const out = new Map(env);
  for (let i = 0; i < args.length; i++) {
    const term = args[i];
    if (term.kind === 'const') {
      if (term.value !== values[i]) return undefined;
    } else if (term.name !== '_') {
      const bound = out.get(term.name);
      if (bound === undefined) out.set(term.name, values[i]);
      else if (bound !== values[i]) return undefined;
    }
  }
  return out;
}

function value(term: Term, env: Map<string, string>): string {
  return term.kind === 'const' ? term.value : (env.get(term.name) as string);
}

function solutions(body: readonly Literal[], db: Tuples, now: number): Map<string, string>[] {
  let envs: Map<string, string>[] = [new Map()];
  const positives = body.filter((l) => l.kind === 'atom' && !l.negated);
  const others = body.filter((l) => !(l.kind === 'atom' && !l.negated));
  for (const literal of [...positives, ...others]) {
    const next: Map<string, string>[] = [];
    for (const env of envs) {
      if (literal.kind === 'compare') {
        if ((value(literal.left, env) === value(literal.right, env)) === (literal.op === '=')) next.push(env);
        continue;
      }
      const tuples = [...(db.get(literal.atom.relation)?.values() ?? [])];
      const matches = tuples
        .filter((t) => literal.withinMs === undefined || t.time >= now - literal.withinMs)
        .map((t) => unify(literal.atom.args, t.values, env));
      if (literal.negated) {
        if (matches.every((m) => m === undefined)) next.push(env);
      } else for (const m of matches) if (m) next.push(m);
    }
    envs = next;
  }
  return envs;
}

/** Every relation's tuples, as sorted JSON strings. */
export function naiveEvaluate(program: AnalysedProgram, facts: readonly InputTuple[], now: number): Map<string, string[]> {
  const db: Tuples = new Map();
  for (const fact of facts) put(db, fact.relation, [...fact.values], fact.time);
  for (const stratum of program.strata) {
    let changed = true;
    while (changed) {
      changed = false;
      for (const clause of stratum) {
        for (const env of solutions(clause.body, db, now)) {
          if (
            put(
              db,
              clause.head.relation,
              clause.head.args.map((t) => value(t, env)),
              0,
            )
          )
            changed = true;
        }
      }
    }
  }
  return new Map([...db].map(([relation, tuples]) => [relation, [...tuples.keys()].sort()]));
}
