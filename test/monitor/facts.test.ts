// The fact base's standing index (what running monitors join against) stays equal to the facts
// it holds: new facts, a statement attested again later, and the oldest facts dropped at the cap.
import { expect, it } from 'vitest';
import { compileMonitors } from '../../src/monitor/compile.js';
import { FactBase, makeFact } from '../../src/monitor/facts.js';
import { judge, judgeGoal } from '../../src/monitor/verdict.js';
import { configFrom } from '../policy/helpers.js';

const [compiled] = compileMonitors(
  configFrom(
    'monitors:\n  - id: go\n    on: { route: "/go/:B" }\n    rule: "permit go(B) :- attested(broker, confirmed(B)) within 10s, attested(user, requested(B))."\n',
  ),
).monitors;
if (compiled === undefined) throw new Error('no monitor');
const monitor = compiled;

function both(base: FactBase, booking: string, now: number): [string, string] {
  const indexed = judge(monitor, { B: booking }, base, now);
  const listed = judgeGoal(
    monitor.program,
    'permit',
    'go',
    { relation: 'go', values: [booking] },
    base.named(['confirmed', 'requested']),
    now,
  );
  return [indexed.reason, listed.reason];
}

it('answers like a fresh evaluation of the same facts as facts arrive, repeat and are dropped', () => {
  const base = new FactBase(4);
  base.add(makeFact('user', 'requested', ['b1'], 1_000, undefined));
  base.add(makeFact('broker', 'confirmed', ['b1'], 1_000, undefined));
  // 20 s later the confirmation is too old for "within 10s"...
  expect(both(base, 'b1', 21_000)).toEqual([
    'go(b1) is not proven: missing attested(broker, confirmed(b1)) within 10s (the newest matching fact is 20s old, beyond 10s)',
    'go(b1) is not proven: missing attested(broker, confirmed(b1)) within 10s (the newest matching fact is 20s old, beyond 10s)',
  ]);
  // ...until the broker confirms again: the newer time stands for the statement.
  base.add(makeFact('broker', 'confirmed', ['b1'], 20_000, undefined));
  expect(both(base, 'b1', 21_000)).toEqual(['go(b1) is proven from 2 fact(s)', 'go(b1) is proven from 2 fact(s)']);
  // Two more facts push the two oldest out (cap 4): the user's request is gone.
  base.add(makeFact('user', 'requested', ['b2'], 20_000, undefined));
  base.add(makeFact('broker', 'confirmed', ['b2'], 20_000, undefined));
  expect(both(base, 'b1', 21_000)).toEqual([
    'go(b1) is not proven: missing attested(user, requested(b1))',
    'go(b1) is not proven: missing attested(user, requested(b1))',
  ]);
  expect(both(base, 'b2', 21_000)).toEqual(['go(b2) is proven from 2 fact(s)', 'go(b2) is proven from 2 fact(s)']);
});
