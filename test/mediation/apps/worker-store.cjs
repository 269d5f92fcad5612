'use strict';
// The node-local store from worker threads, which open it on their first file flow. argv[2]: the
// workspace root (files-fixture.ts). Worker A copies secret/a.txt (pii) to out/secret/w.txt and
// ends; worker B then reads out/secret/w.txt and tries out/shared/w.txt (no pii there) and
// out/secret/twin.txt. Prints one JSON line: what each attempt did.
const fs = require('node:fs');
const path = require('node:path');
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');

const attempt = (file, data) => {
  try {
    fs.writeFileSync(file, data);
    return 'written';
  } catch (error) {
    return { code: error.code, rule: error.rule };
  }
};

if (isMainThread) {
  const root = process.argv[2];
  const run = (step) =>
    new Promise((resolve) => {
      const worker = new Worker(__filename, { workerData: { root, step } });
      worker.once('message', (result) => worker.terminate().then(() => resolve(result)));
    });
  run('a').then(async (a) => console.log(JSON.stringify({ a, b: await run('b') })));
} else {
  const out = (name) => path.join(workerData.root, 'out', name);
  if (workerData.step === 'a') {
    parentPort.postMessage(attempt(out('secret/w.txt'), fs.readFileSync(path.join(workerData.root, 'secret', 'a.txt'))));
  } else {
    const data = fs.readFileSync(out('secret/w.txt'));
    parentPort.postMessage({ shared: attempt(out('shared/w.txt'), data), twin: attempt(out('secret/twin.txt'), data) });
  }
}
