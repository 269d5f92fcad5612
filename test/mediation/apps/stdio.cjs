'use strict';
// Reads secret/a.txt (tagged pii) in the process context and logs it: console.log, a
// process.stdout.write with a callback, and console.error. Then, from a fresh provenant.run()
// context holding nothing, prints a public line and the outcomes as JSON. `untouched`: the streams'
// own write is their class's, as plain (pino checks it to tell whether stdout was replaced).
const fs = require('node:fs');
const path = require('node:path');
const provenant = require(process.env.PROVENANT_DIST_INDEX);

const root = process.argv[2];
const secret = fs.readFileSync(path.join(root, 'secret', 'a.txt'), 'utf8');
console.log(`console.log: ${secret}`);
console.error(`console.error: ${secret}`);
process.stdout.write(`stdout.write: ${secret}`, (error) => {
  const writeCallback = error ? { code: error.code, rule: error.rule } : 'written';
  provenant.run(() => {
    console.log('public line');
    const untouched = [process.stdout, process.stderr].every((stream) => stream.write === stream.constructor.prototype.write);
    console.log(JSON.stringify({ writeCallback, untouched }));
  });
});
