'use strict';
// A worker given {root, data}: writes data to out/public/worker.txt and out/secret/worker.txt,
// reports both outcomes, then answers the next message with what it was given.
const fs = require('node:fs');
const path = require('node:path');
const { parentPort, workerData } = require('node:worker_threads');

const { root, data } = workerData;
const write = (to) => {
  try {
    fs.writeFileSync(path.join(root, to), data);
    return 'written';
  } catch (error) {
    return { code: error.code, rule: error.rule };
  }
};
parentPort.postMessage({ wrote: { toPublic: write('out/public/worker.txt'), toSecret: write('out/secret/worker.txt') } });
parentPort.on('message', (message) => parentPort.postMessage({ answer: `${message}: ${data}` }));
