// One monitor verdict against fact bases of growing size: the drone rule (three attested
// premises joined on the booking) over N bookings' facts, judging launch(m<i>) for varying i.
// Prints the mean time per verdict (single thread, no I/O, unsigned facts) two ways: as a running
// monitor judges (against the fact base's standing index) and as `provenant explain` re-derives
// (building the facts' model from a list first).
//
//   npm run build && node bench/monitor-eval.mjs
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { compileRule } = require('../dist/monitor/compile.js');
const { compileMonitors } = require('../dist/monitor/compile.js');
const { judge, judgeGoal } = require('../dist/monitor/verdict.js');
const { FactBase, makeFact } = require('../dist/monitor/facts.js');

const RULE =
  'permit launch(M) :- attested(resources, mission(M, B)), attested(broker, booking_confirmed(B)), attested(user, booking_request(B)).';
const program = compileRule(RULE);
const position = { line: 1, column: 1, block: false };
const [monitor] = compileMonitors({
  monitors: [
    {
      id: 'launch',
      on: { method: 'POST', route: '/missions/:M' },
      mode: 'verify-then-trust',
      rule: RULE,
      ruleAt: position,
      fetchEvidence: false,
      line: 1,
    },
  ],
  attest: [],
}).monitors;

function perVerdict(runs, verdict) {
  verdict(0);
  const started = process.hrtime.bigint();
  for (let r = 0; r < runs; r++) verdict(r);
  return Number(process.hrtime.bigint() - started) / runs / 1000;
}

for (const bookings of [100, 1000, 10000]) {
  const facts = [];
  for (let i = 0; i < bookings; i++) {
    facts.push(makeFact('resources', 'mission', [`m${i}`, `b${i}`], 1, undefined));
    facts.push(makeFact('broker', 'booking_confirmed', [`b${i}`], 1, undefined));
    facts.push(makeFact('user', 'booking_request', [`b${i}`], 1, undefined));
  }
  const base = new FactBase();
  for (const fact of facts) base.add(fact);
  const indexed = perVerdict(2000, (r) => judge(monitor, { M: `m${r % bookings}` }, base, 2));
  const listed = perVerdict(Math.max(20, Math.floor(200_000 / bookings)), (r) =>
    judgeGoal(program, 'permit', 'launch', { relation: 'launch', values: [`m${r % bookings}`] }, facts, 2),
  );
  console.log(
    `${bookings} bookings (${3 * bookings} facts): monitor ${indexed.toFixed(1)} µs per verdict; explain-style re-derivation ${listed.toFixed(0)} µs`,
  );
}
