'use strict';
// Starts `cat` and an IPC child (a Node child without provenant, execArgv []) from a clean
// context, sends each a public line, then reads secret/a.txt and tries to send it to both.
// Prints {stdinWrite, catOutput, ipcSend}; the IPC child appends what it gets to out/public/ipc.txt.
const fs = require('node:fs');
const path = require('node:path');
const cp = require('node:child_process');

const root = process.argv[2];
const cat = cp.spawn('cat', [], { stdio: ['pipe', 'pipe', 'inherit'] });
let catOutput = '';
cat.stdout.setEncoding('utf8').on('data', (chunk) => (catOutput += chunk));
cat.stdin.on('error', () => {});
const ipc = cp.fork(path.join(__dirname, 'ipc-receiver.cjs'), [path.join(root, 'out', 'public', 'ipc.txt')], { execArgv: [] });
const catClosed = new Promise((resolve) => cat.on('close', resolve));
const ipcExited = new Promise((resolve) => ipc.on('exit', resolve));

const outcomeOf = (error) => (error ? { code: error.code, rule: error.rule } : 'sent');
const send = (fn) => new Promise((resolve) => fn((error) => resolve(outcomeOf(error))));

(async () => {
  await send((done) => cat.stdin.write('public line\n', done));
  await send((done) => ipc.send('public message', done));
  await new Promise((resolve) => ipc.once('message', resolve));
  const secret = fs.readFileSync(path.join(root, 'secret', 'a.txt'), 'utf8');
  const stdinWrite = await send((done) => cat.stdin.write(secret, done));
  const ipcSend = await send((done) => ipc.send(secret, done));
  ipc.disconnect();
  await ipcExited;
  await catClosed;
  console.log(JSON.stringify({ stdinWrite, catOutput, ipcSend }));
})();
