/**
 * A monitor's verdict on one action: the fixpoint of its rule over the facts at hand, then either
 * the proof (a `permit` that holds, a `deny` that holds) or the premise that is missing.
 */
import type { AnalysedProgram } from './analyse.js';
import type { CompiledMonitor } from './compile.js';
import { concludesOnly, deriveGoal, evaluateGoal } from './evaluate.js';
import type { Model, TupleRef } from './model.js';
import { tuplesOf, type Fact, type FactBase } from './facts.js';
import { factsOf, missingPremise, proofOf, proofOfDerivation, statementOf, type MissingPremise, type ProofNode } from './proof.js';
import type { Effect } from './syntax.js';

export interface Verdict {
  readonly goal: TupleRef;
  readonly outcome: 'permit' | 'deny';
  readonly proof?: ProofNode;
  readonly missing?: MissingPremise;
  /** Ids of the facts the verdict rests on (the proof's, or those matched before the missing premise). */
  readonly facts: readonly string[];
  /** One sentence: what was decided and why. */
  readonly reason: string;
}

/**
 * The verdict of a configured monitor on a request that bound `params`, over the facts of `base`.
 * A rule made only of the action's clauses is joined against the base's standing index; a rule
 * with helper relations is evaluated over the facts it names.
 */
export function judge(monitor: CompiledMonitor, params: Readonly<Record<string, string>>, base: FactBase, now: number): Verdict {
  const goal: TupleRef = { relation: monitor.action, values: monitor.actionArgs.map((name) => params[name] ?? '') };
  if (concludesOnly(monitor.program, monitor.action)) {
    const derivation = deriveGoal(monitor.program, base.tuples, goal, now);
    const proof = derivation === undefined ? undefined : proofOfDerivation(base.tuples, goal, derivation);
    return conclude(monitor.program, monitor.effect, monitor.id, goal, base.tuples, proof, now);
  }
  return judgeGoal(monitor.program, monitor.effect, monitor.id, goal, base.named(monitor.factNames), now);
}

/** The verdict on `goal` under a rule with `effect`, over these facts (also what `provenant explain` re-derives). */
export function judgeGoal(
  program: AnalysedProgram,
  effect: Effect,
  name: string,
  goal: TupleRef,
  facts: Iterable<Fact>,
  now: number,
): Verdict {
  const model = evaluateGoal(program, [...facts].flatMap(tuplesOf), goal, now);
  const proof = model.has(goal.relation, goal.values) ? proofOf(model, goal) : undefined;
  return conclude(program, effect, name, goal, model, proof, now);
}

function conclude(
  program: AnalysedProgram,
  effect: Effect,
  name: string,
  goal: TupleRef,
  model: Model,
  proof: ProofNode | undefined,
  now: number,
): Verdict {
  const action = statementOf(goal);
  if (proof !== undefined) {
    const used = factsOf(proof);
    if (effect === 'permit')
      return { goal, outcome: 'permit', proof, facts: used, reason: `${action} is proven from ${used.length} fact(s)` };
    const premises = proof.premises.map((p) => p.statement).join(', ');
    return { goal, outcome: 'deny', proof, facts: used, reason: `${action} is denied by ${name}: ${premises}` };
  }
  if (effect === 'deny') return { goal, outcome: 'permit', facts: [], reason: `no deny clause for ${action} holds` };
  const missing = missingPremise(program, model, goal, now) as MissingPremise;
  const detail = missing.detail === undefined ? '' : ` (${missing.detail})`;
  return { goal, outcome: 'deny', missing, facts: missing.matched, reason: `${action} is not proven: missing ${missing.premise}${detail}` };
}
