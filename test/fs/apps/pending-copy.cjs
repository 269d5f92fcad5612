'use strict';
// Writes secret/a.txt's data (pii) to out/secret/x.txt asynchronously and, in the same synchronous
// run, before that write's provenance is committed, copies x.txt to y.txt: the copy is decided
// with x.txt's provenance as this process decided it, not as the store last committed it; so is
// a copy of x.txt to out/public/leak.txt, denied (argv[2]: the workspace root). x.txt exists
// (empty, written before the secret is read): the write and the copies run concurrently, as plain
// Node runs them, so which bytes a copy reads is a race; what it is decided with is not.
const fs = require('node:fs');
const path = require('node:path');

const root = process.argv[2];
const x = path.join(root, 'out', 'secret', 'x.txt');
fs.writeFileSync(x, '');
const data = fs.readFileSync(path.join(root, 'secret', 'a.txt'));
const y = path.join(root, 'out', 'secret', 'y.txt');
const written = fs.promises.writeFile(x, data);
const copied = fs.promises.copyFile(x, y);
const leaked = fs.promises.copyFile(x, path.join(root, 'out', 'public', 'leak.txt')).then(
  () => 'leak written',
  (error) => `leak ${error.code}`,
);
Promise.all([written, copied, leaked]).then(
  ([, , leak]) => console.log(`done, ${leak}`),
  (error) => console.log(`failed ${error.code}`),
);
