'use strict';
// A worker thread's journal. argv[3]: 'terminate' — a worker writes out/public/<name>.txt, says so,
// and is terminated at once; 'exit' — the same, then the process exits while the worker still
// runs; 'service' — a worker started with OTEL_SERVICE_NAME=forged in its env, which starts a
// worker of its own, each writing a file; plus an app attempt to set provenant's service key;
// 'idle' — a worker that moves nothing and answers. Prints one JSON line of outcomes.
const { Worker, isMainThread, parentPort, workerData, setEnvironmentData } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');

if (!isMainThread && workerData.name === 'idle') {
  parentPort.postMessage('idle');
} else if (!isMainThread) {
  const { root, name, nested } = workerData;
  fs.writeFileSync(path.join(root, 'out', 'public', `${name}.txt`), `${name}\n`);
  if (nested) {
    const child = new Worker(__filename, { workerData: { root, name: `${name}-nested` } });
    child.once('message', () => child.terminate().then(() => parentPort.postMessage('written')));
  } else {
    // 'written (compiled)': this worker ran the bundle its creator compiled (support/bundle-code.ts).
    const compiled = globalThis[Symbol.for('provenant.bundle-script')]?.code !== undefined;
    parentPort.postMessage(compiled ? 'written (compiled)' : 'written');
    // Keeps running until terminated.
    setInterval(() => {}, 1 << 30);
  }
} else {
  const [root, mode] = process.argv.slice(2);
  const result = {};
  if (mode === 'service') {
    try {
      setEnvironmentData('provenant.worker-service', 'forged');
      result.setServiceKey = 'set';
    } catch (error) {
      result.setServiceKey = error.name;
    }
  }
  const env = mode === 'service' ? { ...process.env, OTEL_SERVICE_NAME: 'forged' } : process.env;
  const worker = new Worker(__filename, { env, workerData: { root, name: mode, nested: mode === 'service' } });
  worker.once('message', (message) => {
    result.worker = message;
    if (mode === 'exit') {
      console.log(JSON.stringify(result));
      process.exit(0);
    }
    worker.terminate().then(() => console.log(JSON.stringify(result)));
  });
}
