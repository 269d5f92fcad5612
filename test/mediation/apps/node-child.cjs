'use strict';
// Reads secret/a.txt, then forks a Node child (which inherits the preload) and hands it the data
// as an argument; NODE_OPTIONS_BEFORE (JSON array) puts Node options before the inherited ones. Prints {child: <what the child printed>} or {fork: <error>}.
const fs = require('node:fs');
const path = require('node:path');
const cp = require('node:child_process');

const root = process.argv[2];
const secret = fs.readFileSync(path.join(root, 'secret', 'a.txt'), 'utf8');
const before = JSON.parse(process.env.NODE_OPTIONS_BEFORE ?? '[]');
const child = cp.fork(path.join(__dirname, 'child-writes.cjs'), [root, secret], {
  stdio: ['pipe', 'pipe', 'inherit', 'ipc'],
  execArgv: [...before, ...process.execArgv],
});
let printed = '';
let error;
child.stdout.setEncoding('utf8').on('data', (chunk) => (printed += chunk));
child.on('error', (e) => (error = e));
child.on('close', () => {
  console.log(JSON.stringify(error ? { fork: { code: error.code, rule: error.rule } } : { child: JSON.parse(printed) }));
});
