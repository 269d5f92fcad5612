'use strict';
// From a context holding nothing labelled, forks a Node child under provenant that reads
// secret/a.txt itself and prints it; relays what the child printed as JSON.
const path = require('node:path');
const cp = require('node:child_process');

const root = process.argv[2];
const child = cp.fork(path.join(__dirname, 'prints-secret.cjs'), [root], { stdio: ['pipe', 'pipe', 'pipe', 'ipc'] });
let stdout = '';
let stderr = '';
child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
child.on('close', () => console.log(JSON.stringify({ stdout, stderr })));
