// Random small programs (seeded, so every run checks the same ones) evaluated by the semi-naive
// evaluator and by a naive one: every relation must hold the same tuples.
import { expect, it } from 'vitest';
import { analyseProgram } from '../../src/monitor/analyse.js';
import { evaluate, evaluateGoal } from '../../src/monitor/evaluate.js';
import type { InputTuple } from '../../src/monitor/model.js';
import { parseProgram } from '../../src/monitor/parse.js';
import { RuleError } from '../../src/monitor/syntax.js';
import { naiveEvaluate } from './naive.js';

/** mulberry32: a small deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STORED: Record<string, number> = { e: 2, f: 1, g: 2 };
const DERIVED: Record<string, number> = { p: 2, q: 1, r: 2 };
const CONSTANTS = ['a', 'b', 'c', 'd'];
const VARIABLES = ['X', 'Y', 'Z'];
const NOW = 100_000;

function randomProgram(random: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const relations = { ...STORED, ...DERIVED };
  const clauses: string[] = [];
  const count = 1 + Math.floor(random() * 5);
  for (let c = 0; c < count; c++) {
    const bound = new Set<string>();
    const body: string[] = [];
    const positives = 1 + Math.floor(random() * 3);
    for (let i = 0; i < positives; i++) {
      const relation = pick(Object.keys(relations));
      const args = Array.from({ length: relations[relation] }, () => (random() < 0.8 ? pick(VARIABLES) : pick(CONSTANTS)));
      for (const arg of args) if (VARIABLES.includes(arg)) bound.add(arg);
      const within = relation in STORED && random() < 0.3 ? ` within ${1 + Math.floor(random() * 50)}s` : '';
      body.push(`${relation}(${args.join(', ')})${within}`);
    }
    const vars = [...bound];
    if (vars.length === 0) continue;
    if (random() < 0.4) {
      const relation = pick(Object.keys(relations));
      body.push(
        `not ${relation}(${Array.from({ length: relations[relation] }, () => (random() < 0.7 ? pick(vars) : pick(CONSTANTS))).join(', ')})`,
      );
    }
    if (random() < 0.3) body.push(`${pick(vars)} ${random() < 0.5 ? '=' : '!='} ${random() < 0.5 ? pick(vars) : pick(CONSTANTS)}`);
    const head = pick(Object.keys(DERIVED));
    clauses.push(`${head}(${Array.from({ length: DERIVED[head] }, () => pick(vars)).join(', ')}) :- ${body.join(', ')}.`);
  }
  return clauses.join('\n');
}

function randomFacts(random: () => number): InputTuple[] {
  const facts: InputTuple[] = [];
  for (const [relation, arity] of Object.entries(STORED)) {
    const count = Math.floor(random() * 8);
    for (let i = 0; i < count; i++) {
      const values = Array.from({ length: arity }, () => CONSTANTS[Math.floor(random() * CONSTANTS.length)]);
      facts.push({ relation, values, time: NOW - Math.floor(random() * 60_000), fact: `${relation}-${i}` });
    }
  }
  return facts;
}

it('agrees with a naive evaluator on 400 random programs, in full and goal-directed', () => {
  const random = prng(15);
  let compared = 0;
  let nonEmpty = 0;
  let rejected = 0;
  let goalsChecked = 0;
  for (let n = 0; n < 400; n++) {
    const source = randomProgram(random);
    const facts = randomFacts(random);
    if (source === '') continue;
    let program;
    try {
      program = analyseProgram(parseProgram(source));
    } catch (error) {
      // Random negation is often not stratifiable; that is the analysis working, counted below.
      if (!(error instanceof RuleError)) throw error;
      rejected++;
      continue;
    }
    const fast = evaluate(program, facts, NOW);
    const expected = naiveEvaluate(program, facts, NOW);
    for (const relation of Object.keys(DERIVED)) {
      const got = [...fast.entries(relation)].map((entry) => JSON.stringify(entry.values)).sort();
      expect({ source, relation, tuples: got }).toEqual({ source, relation, tuples: expected.get(relation) ?? [] });
      if (got.length > 0) nonEmpty++;
      // Goal-directed evaluation (what a monitor runs) agrees on tuples that hold and some that do not.
      const arity = DERIVED[relation];
      const goals = [
        ...(expected.get(relation) ?? []).slice(0, 3).map((json) => JSON.parse(json) as string[]),
        ...Array.from({ length: 2 }, () => Array.from({ length: arity }, () => CONSTANTS[Math.floor(random() * CONSTANTS.length)])),
      ];
      for (const values of goals) {
        const holds = (expected.get(relation) ?? []).includes(JSON.stringify(values));
        expect({ source, relation, values, holds: evaluateGoal(program, facts, { relation, values }, NOW).has(relation, values) }).toEqual({
          source,
          relation,
          values,
          holds,
        });
        goalsChecked++;
      }
    }
    compared++;
  }
  // The generator must exercise both paths: most programs evaluated, many deriving something.
  expect(compared).toBeGreaterThan(250);
  expect(nonEmpty).toBeGreaterThan(100);
  expect(rejected).toBeGreaterThan(0);
  expect(goalsChecked).toBeGreaterThan(1000);
});
