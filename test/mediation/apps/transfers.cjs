'use strict';
// What a worker under provenant is handed by transfer rather than by value: an fd number of a
// public file and of secret/a.txt (workerData), a FileHandle of a public file and a MessagePort
// (postMessage transferList). argv[3] = 'secret': the worker reads secret/a.txt first and tries to
// send it through each; in every case it then sends a public line from a fresh context. The main
// thread reports what arrived. Prints one JSON line of outcomes.
const fs = require('node:fs');
const fsp = require('node:fs/promises');
const path = require('node:path');
const { Worker, MessageChannel } = require('node:worker_threads');

const [root, mode] = process.argv.slice(2);

async function main() {
  const publicFd = fs.openSync(path.join(root, 'out', 'public', 'fd.txt'), 'w');
  const secretFd = fs.openSync(path.join(root, 'secret', 'a.txt'), 'r');
  const handle = await fsp.open(path.join(root, 'out', 'public', 'handle.txt'), 'w');
  const { port1, port2 } = new MessageChannel();
  const fromPort = [];
  port1.on('message', (message) => fromPort.push(message));
  const worker = new Worker(path.join(__dirname, 'transfers-worker.cjs'), { workerData: { root, mode, publicFd, secretFd } });
  worker.postMessage({ handle, port: port2 }, [handle, port2]);
  const result = await new Promise((resolve, reject) => {
    worker.on('message', resolve);
    worker.on('error', reject);
  });
  await new Promise((resolve) => worker.on('exit', resolve));
  // The worker's port messages are queued here before it exits: one turn dispatches them.
  await new Promise((resolve) => setImmediate(resolve));
  port1.close();
  fs.closeSync(publicFd);
  fs.closeSync(secretFd);
  console.log(JSON.stringify({ ...result, fromPort }));
}

main();
