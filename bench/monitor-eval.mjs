// One monitor verdict against fact bases of growing size: the drone rule (three attested
// premises joined on the booking) over N bookings' facts, judging launch(m<i>) for varying i.
// Prints the mean time per verdict (single thread, no I/O, unsigned facts).
//
//   npm run build && node bench/monitor-eval.mjs
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { compileRule } = require('../dist/monitor/compile.js');
const { judgeGoal } = require('../dist/monitor/verdict.js');
const { makeFact } = require('../dist/monitor/facts.js');

const program = compileRule(
  'permit launch(M) :- attested(resources, mission(M, B)), attested(broker, booking_confirmed(B)), attested(user, booking_request(B)).',
);
for (const bookings of [100, 1000, 10000]) {
  const facts = [];
  for (let i = 0; i < bookings; i++) {
    facts.push(makeFact('resources', 'mission', [`m${i}`, `b${i}`], 1, undefined));
    facts.push(makeFact('broker', 'booking_confirmed', [`b${i}`], 1, undefined));
    facts.push(makeFact('user', 'booking_request', [`b${i}`], 1, undefined));
  }
  const runs = Math.max(20, Math.floor(200_000 / bookings));
  judgeGoal(program, 'permit', 'launch', { relation: 'launch', values: ['m1'] }, facts, 2);
  const started = process.hrtime.bigint();
  for (let r = 0; r < runs; r++) judgeGoal(program, 'permit', 'launch', { relation: 'launch', values: [`m${r % bookings}`] }, facts, 2);
  const micros = Number(process.hrtime.bigint() - started) / runs / 1000;
  console.log(`${bookings} bookings (${3 * bookings} facts): ${micros.toFixed(0)} µs per verdict (${runs} verdicts)`);
}
