'use strict';
// A worker that reads secret/a.txt itself and copies it to out/public/leak.txt and
// out/secret/copy.txt, then reports both outcomes and whether its thread loaded a YAML parser.
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');
const writeOutcome = require('./write-outcome.cjs');

if (!isMainThread) {
  const { root } = workerData;
  const data = fs.readFileSync(path.join(root, 'secret', 'a.txt'), 'utf8');
  parentPort.postMessage({
    toPublic: writeOutcome(root, 'out/public/leak.txt', data),
    toSecret: writeOutcome(root, 'out/secret/copy.txt', data),
    yamlLoaded: Object.keys(require.cache).some((file) => file.includes(`${path.sep}node_modules${path.sep}yaml${path.sep}`)),
  });
} else {
  const [root] = process.argv.slice(2);
  const worker = new Worker(__filename, { workerData: { root } });
  worker.once('message', (result) => worker.terminate().then(() => console.log(JSON.stringify(result))));
}
