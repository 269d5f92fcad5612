'use strict';
// Forks ipc-receiver.cjs (a Node child without provenant, execArgv []) from a clean context, sends
// it a public message through child.send and one through the channel's handle, then reads
// secret/a.txt and tries to send it through the handle and through child._send.
// Prints {publicSend, publicRaw, secretRaw, secretUnderscoreSend}; the child appends what it gets
// to out/public/ipc.txt.
const fs = require('node:fs');
const path = require('node:path');
const cp = require('node:child_process');
const { rawSend, viaSend } = require('./ipc-handle.cjs');

const root = process.argv[2];
const child = cp.fork(path.join(__dirname, 'ipc-receiver.cjs'), [path.join(root, 'out', 'public', 'ipc.txt')], { execArgv: [] });
const exited = new Promise((resolve) => child.on('exit', resolve));
const stored = () => new Promise((resolve) => child.once('message', resolve));

(async () => {
  const publicSend = await viaSend(child, 'send', 'public message');
  await stored();
  const publicRaw = rawSend(child, 'public raw');
  await stored();
  const secret = fs.readFileSync(path.join(root, 'secret', 'a.txt'), 'utf8');
  const secretRaw = rawSend(child, secret);
  const secretUnderscoreSend = await viaSend(child, '_send', secret);
  child.disconnect();
  await exited;
  console.log(JSON.stringify({ publicSend, publicRaw, secretRaw, secretUnderscoreSend }));
})();
