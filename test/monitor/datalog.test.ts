import { describe, expect, it } from 'vitest';
import { analyseProgram } from '../../src/monitor/analyse.js';
import { evaluate } from '../../src/monitor/evaluate.js';
import type { InputTuple, Model } from '../../src/monitor/model.js';
import { parseProgram } from '../../src/monitor/parse.js';
import { factsOf, missingPremise, proofOf } from '../../src/monitor/proof.js';
import { RuleError } from '../../src/monitor/syntax.js';

const NOW = 1_000_000;

function fact(relation: string, values: string[], time = NOW, id = `${relation}(${values.join(',')})`): InputTuple {
  return { relation, values, time, fact: id };
}

function run(source: string, facts: InputTuple[], now = NOW): Model {
  return evaluate(analyseProgram(parseProgram(source)), facts, now);
}

function tuples(model: Model, relation: string): string[] {
  return [...model.entries(relation)].map((e) => e.values.join(',')).sort();
}

function problem(source: string): { problem: string; offset: number } {
  try {
    analyseProgram(parseProgram(source));
  } catch (error) {
    if (error instanceof RuleError) return { problem: error.problem, offset: error.offset };
    throw error;
  }
  throw new Error('no error');
}

describe('evaluation against hand-computed fixpoints', () => {
  it('computes a transitive closure (recursion, several semi-naive rounds)', () => {
    const edges = [
      ['a', 'b'],
      ['b', 'c'],
      ['c', 'd'],
      ['d', 'b'],
    ].map((e) => fact('edge', e));
    const model = run('path(X, Y) :- edge(X, Y). path(X, Z) :- path(X, Y), edge(Y, Z).', edges);
    // From a: b, c, d; from b, c, d: each other and themselves (the cycle b→c→d→b).
    expect(tuples(model, 'path')).toEqual(['a,b', 'a,c', 'a,d', 'b,b', 'b,c', 'b,d', 'c,b', 'c,c', 'c,d', 'd,b', 'd,c', 'd,d']);
  });

  it('evaluates stratified negation after the negated relation is complete', () => {
    const facts = [fact('node', ['a']), fact('node', ['b']), fact('node', ['c']), fact('edge', ['a', 'b'])];
    const model = run('reach(a). reach(Y) :- reach(X), edge(X, Y). unreached(X) :- node(X), not reach(X).', facts);
    expect(tuples(model, 'reach')).toEqual(['a', 'b']);
    expect(tuples(model, 'unreached')).toEqual(['c']);
  });

  it('reads attested(P, f(...)) as the relation of f with the principal first, and compares values', () => {
    const facts = [
      fact('attested:authored', ['alice', 'i1']),
      fact('attested:approved', ['alice', 'i1']),
      fact('attested:authored', ['alice', 'i2']),
      fact('attested:approved', ['bob', 'i2']),
    ];
    const model = run('payable(I) :- attested(A, authored(I)), attested(P, approved(I)), P != A.', facts);
    expect(tuples(model, 'payable')).toEqual(['i2']);
    const same = run('deny pay(I) :- attested(P, approved(I)), attested(P, authored(I)).', facts);
    expect(tuples(same, 'pay')).toEqual(['i1']);
  });

  it('counts a fact for "within" only when it is no older than the bound at evaluation time', () => {
    const facts = [fact('confirmed', ['b1'], NOW - 9 * 60_000), fact('confirmed', ['b2'], NOW - 11 * 60_000)];
    expect(tuples(run('ok(B) :- confirmed(B) within 10m.', facts), 'ok')).toEqual(['b1']);
    // The same fact seen twice keeps its newest time.
    const again = [...facts, fact('confirmed', ['b2'], NOW - 60_000, 'later')];
    expect(tuples(run('ok(B) :- confirmed(B) within 10m.', again), 'ok')).toEqual(['b1', 'b2']);
  });
});

describe('proofs and missing premises', () => {
  const source = 'permit launch(M) :- mission(M, B), attested(broker, booking_confirmed(B)), attested(user, booking_request(B)).';
  const program = analyseProgram(parseProgram(source));
  const base = [fact('mission', ['m1', 'b1'], NOW, 'f-mission'), fact('attested:booking_request', ['user', 'b1'], NOW, 'f-request')];

  it('names the first premise no fact satisfies, bound as far as the matched facts bind it', () => {
    const model = evaluate(program, base, NOW);
    expect(missingPremise(program, model, { relation: 'launch', values: ['m1'] }, NOW)).toEqual({
      premise: 'attested(broker, booking_confirmed(b1))',
      matched: ['f-mission'],
    });
    expect(missingPremise(program, model, { relation: 'launch', values: ['m9'] }, NOW)?.premise).toBe('mission(m9, B)');
  });

  it('prints the proof of a goal that holds, down to the facts it rests on', () => {
    const model = evaluate(program, [...base, fact('attested:booking_confirmed', ['broker', 'b1'], NOW, 'f-confirmed')], NOW);
    expect(missingPremise(program, model, { relation: 'launch', values: ['m1'] }, NOW)).toBeUndefined();
    const proof = proofOf(model, { relation: 'launch', values: ['m1'] });
    expect(proof.statement).toBe('launch(m1)');
    expect(proof.premises.map((p) => p.statement)).toEqual([
      'mission(m1, b1)',
      'attested(broker, booking_confirmed(b1))',
      'attested(user, booking_request(b1))',
    ]);
    expect(factsOf(proof)).toEqual(['f-mission', 'f-confirmed', 'f-request']);
  });

  it('says a fact is too old for "within"', () => {
    const timed = analyseProgram(parseProgram('permit go(B) :- confirmed(B) within 2s.'));
    const model = evaluate(timed, [fact('confirmed', ['b1'], NOW - 5000)], NOW);
    expect(missingPremise(timed, model, { relation: 'go', values: ['b1'] }, NOW)).toEqual({
      premise: 'confirmed(b1) within 2s',
      detail: 'the newest matching fact is 5s old, beyond 2s',
      matched: [],
    });
  });
});

describe('errors in rules', () => {
  it('rejects a head variable no positive fact binds (unsafe)', () => {
    expect(problem('permit launch(M) :- booked(B).')).toEqual({
      problem: 'unsafe rule: M in the head launch(M) does not occur in a positive fact of its body',
      offset: 7,
    });
  });

  it('rejects a variable that only a negation mentions', () => {
    expect(problem('p(X) :- q(X), not r(Y).').problem).toMatch(/^unsafe rule: Y in "not r\(Y\)"/);
  });

  it('rejects recursion through negation (not stratifiable)', () => {
    const { problem: text, offset } = problem('p(X) :- q(X), not r(X). r(X) :- q(X), not p(X).');
    expect(text).toMatch(/^not stratifiable: /);
    expect([18, 42]).toContain(offset);
  });

  it('rejects "within" on a derived relation, inconsistent arities and syntax errors at their offset', () => {
    expect(problem('d(X) :- e(X). p(X) :- d(X) within 1m.').problem).toBe('"within" bounds only stored facts, and d is derived by a rule');
    expect(problem('p(X) :- e(X). q(X) :- e(X, X).')).toEqual({
      problem: 'e(X, X) has 2 argument(s) but e is used with 1 elsewhere',
      offset: 22,
    });
    expect(problem('p(X) :- e(X)')).toEqual({ problem: 'expected a "." to end the clause, got the end of the rule', offset: 12 });
    expect(problem('p(X) :- e(X) within 10 minutes.').problem).toMatch(/^expected a duration such as 10m/);
  });
});
