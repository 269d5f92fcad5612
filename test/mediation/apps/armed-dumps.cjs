'use strict';
// Dumps Node writes by itself once armed. argv: root, kind, data ('secret' reads secret/a.txt
// first), dir (where reports go). kind: 'uncaught' (reportOnUncaughtException, then an uncaught
// error), 'signal' (reportOnSignal, then SIGUSR2 to itself), 'heap-signal' (run with
// --heapsnapshot-signal=SIGUSR2; SIGUSR2 to itself), 'native' (arming the natively written dumps).
// Prints one JSON line of outcomes (except 'uncaught', which dies of its error).
const fs = require('node:fs');
const path = require('node:path');
const v8 = require('node:v8');

const [root, kind, data, dir] = process.argv.slice(2);
const tried = (fn) => {
  try {
    fn();
    return 'armed';
  } catch (error) {
    return { code: error.code, rule: error.rule };
  }
};

process.report.directory = dir;
if (data === 'secret') fs.readFileSync(path.join(root, 'secret', 'a.txt'));

if (kind === 'uncaught') {
  process.report.reportOnUncaughtException = true;
  throw new Error('crash on purpose');
} else if (kind === 'native') {
  const fatal = tried(() => (process.report.reportOnFatalError = true));
  const nearLimit = tried(() => v8.setHeapSnapshotNearHeapLimit(1));
  console.log(JSON.stringify({ fatal, fatalNow: process.report.reportOnFatalError, nearLimit }));
} else {
  if (kind === 'signal') process.report.reportOnSignal = true;
  // Listeners run in order: provenant's (added when armed, or at start) has run when this one does.
  process.once('SIGUSR2', () => console.log(JSON.stringify({ reportOnSignal: process.report.reportOnSignal })));
  process.kill(process.pid, 'SIGUSR2');
}
