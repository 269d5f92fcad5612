'use strict';
// Forks ipc-child.cjs (under provenant, as fork inherits the preload) from a clean context and
// prints {got: the messages it received (Node's control messages too), child: the child's outcomes} once the child has exited.
// argv[3]: the channel's serialization ('json', the default, or 'advanced').
const fs = require('node:fs');
const path = require('node:path');
const cp = require('node:child_process');

const root = process.argv[2];
const serialization = process.argv[3] ?? 'json';
const got = [];
const child = cp.fork(path.join(__dirname, 'ipc-child.cjs'), [root, serialization], { serialization });
child.on('message', (message) => got.push(message));
child.on('internalMessage', (message) => got.push(JSON.stringify(message)));
child.on('exit', () => {
  const outcomes = JSON.parse(fs.readFileSync(path.join(root, 'out', 'secret', 'child.json'), 'utf8'));
  console.log(JSON.stringify({ got, child: outcomes }));
});
