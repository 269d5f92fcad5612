'use strict';
// Reads secret/a.txt, hands it to `cat` on stdin (the config labels `cat` secret), and writes
// what cat printed back to out/secret/echo.txt and out/public/echo.txt.
const fs = require('node:fs');
const path = require('node:path');
const writeOutcome = require('./write-outcome.cjs');
const cp = require('node:child_process');

const root = process.argv[2];
const secret = fs.readFileSync(path.join(root, 'secret', 'a.txt'), 'utf8');
const echoed = cp.spawnSync('cat', [], { input: secret, encoding: 'utf8' }).stdout;
const write = (to) => writeOutcome(root, to, echoed);
console.log(JSON.stringify({ echoed, toSecret: write('out/secret/echo.txt'), toPublic: write('out/public/echo.txt') }));
