'use strict';
// Reads secret/a.txt, then forks itself as a Node child under provenant (argv[3] = 'child'). The
// child prints what its context started with and the claim it was started with, copied out of
// /proc/self/environ (where it stays, although provenant removed it from process.env).
const fs = require('node:fs');
const path = require('node:path');
const cp = require('node:child_process');
const provenant = require(process.env.PROVENANT_DIST_INDEX);

const [root, mode] = process.argv.slice(2);
if (mode === 'child') {
  const started = provenant.current();
  // In a fresh context: the secret this process started with may not go to its (unlabelled) stdout.
  provenant.run(() => {
    const environ = fs.readFileSync('/proc/self/environ', 'latin1').split('\0');
    const claim = environ.find((entry) => entry.startsWith('PROVENANT_PARENT_CLAIM='))?.slice('PROVENANT_PARENT_CLAIM='.length);
    console.log(JSON.stringify({ ...started, claim }));
  });
  return;
}
fs.readFileSync(path.join(root, 'secret', 'a.txt'));
const child = cp.fork(__filename, [root, 'child'], { stdio: ['pipe', 'pipe', 'inherit', 'ipc'] });
let printed = '';
child.stdout.setEncoding('utf8').on('data', (chunk) => (printed += chunk));
child.on('close', () => provenant.run(() => console.log(printed.trim())));
