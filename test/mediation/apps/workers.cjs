'use strict';
// Worker threads. argv[3] = 'secret': secret/a.txt is read first. A worker under provenant (the
// preload is inherited) gets the data as workerData and tries to write it to out/public and
// out/secret, then answers a message; the parent writes the answer to out/public/answer.txt. A
// worker started with execArgv [] runs provenant all the same, seeded with the data, and creates
// out/public/ran-bare-worker only when that is allowed; one with a forged export-worker mark is
// refused (it would create ran-forged-worker); a MessageChannel post would carry the data too.
// Prints one JSON line of outcomes.
const fs = require('node:fs');
const path = require('node:path');
const { Worker, MessageChannel } = require('node:worker_threads');

const [root, mode] = process.argv.slice(2);
const data = mode === 'secret' ? fs.readFileSync(path.join(root, 'secret', 'a.txt'), 'utf8') : 'nothing secret\n';
const failed = (error) => ({ code: error.code, rule: error.rule });
const result = {};

try {
  const bare = new Worker(`require('node:fs').writeFileSync(${JSON.stringify(path.join(root, 'out', 'public', 'ran-bare-worker'))}, '')`, {
    eval: true,
    execArgv: [],
    workerData: data,
  });
  result.bareWorker = 'created';
  bare.on('error', () => {});
} catch (error) {
  result.bareWorker = failed(error);
}

// provenant's own export threads are marked in workerData and skip the preload: an app that
// forges the mark would get a thread without provenant, so it is refused in enforce mode.
try {
  const forged = new Worker(
    `require('node:fs').writeFileSync(${JSON.stringify(path.join(root, 'out', 'public', 'ran-forged-worker'))}, require('node:worker_threads').workerData.data)`,
    { eval: true, workerData: { provenantExportWorker: true, data } },
  );
  result.forgedExportWorker = 'created';
  forged.on('error', () => {});
} catch (error) {
  result.forgedExportWorker = failed(error);
}

const { port1, port2 } = new MessageChannel();
try {
  port1.postMessage(data);
  result.channel = 'posted';
} catch (error) {
  result.channel = failed(error);
}
port1.close();
port2.close();

const worker = new Worker(path.join(__dirname, 'worker-writes.cjs'), { workerData: { root, data } });
worker.on('message', (message) => {
  if (message.wrote) {
    result.worker = message.wrote;
    worker.postMessage('answer please');
    return;
  }
  try {
    fs.writeFileSync(path.join(root, 'out', 'public', 'answer.txt'), message.answer);
    result.answerToPublic = 'written';
  } catch (error) {
    result.answerToPublic = failed(error);
  }
  worker.terminate().then(() => console.log(JSON.stringify(result)));
});
