'use strict';
// A worker given {root, data}: writes data to out/public/worker.txt and out/secret/worker.txt,
// reports both outcomes, then answers the next message with what it was given.
const writeOutcome = require('./write-outcome.cjs');
const { parentPort, workerData } = require('node:worker_threads');

const { root, data } = workerData;
const write = (to) => writeOutcome(root, to, data);
parentPort.postMessage({ wrote: { toPublic: write('out/public/worker.txt'), toSecret: write('out/secret/worker.txt') } });
parentPort.on('message', (message) => parentPort.postMessage({ answer: `${message}: ${data}` }));
