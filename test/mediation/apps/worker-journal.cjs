'use strict';
// A worker thread's journal. argv[3]: 'terminate' — a worker writes out/public/<name>.txt, says so,
// and is terminated at once; 'exit' — the same, then the process exits while the worker still
// runs; 'service' — a worker started with OTEL_SERVICE_NAME=forged in its env, which starts a
// worker of its own, each writing a file; plus an app attempt to set provenant's service key;
// 'idle' — a worker that moves nothing and answers; 'late' — the process exits while its worker
// runs, and an exit listener of the app's (after provenant's) has the worker write another file
// then, after provenant closed the worker's log. Prints one JSON line of outcomes.
const { Worker, isMainThread, parentPort, workerData, setEnvironmentData } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');

if (!isMainThread && workerData.name === 'idle') {
  parentPort.postMessage('idle');
} else if (!isMainThread && workerData.name === 'late') {
  const { root, flags } = workerData;
  const flag = new Int32Array(flags);
  fs.writeFileSync(path.join(root, 'out', 'public', 'late-before.txt'), 'before\n');
  parentPort.postMessage('written');
  // Until the main thread's exit listener says to go on.
  Atomics.wait(flag, 0, 0);
  fs.writeFileSync(path.join(root, 'out', 'public', 'late.txt'), 'late\n');
  Atomics.store(flag, 1, 1);
  Atomics.notify(flag, 1);
  setInterval(() => {}, 1 << 30);
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
  const flags = new SharedArrayBuffer(8);
  const worker = new Worker(__filename, { env, workerData: { root, name: mode, nested: mode === 'service', flags } });
  worker.once('message', (message) => {
    result.worker = message;
    if (mode === 'late') {
      process.on('exit', () => {
        const flag = new Int32Array(flags);
        Atomics.store(flag, 0, 1);
        Atomics.notify(flag, 0);
        // Bounds a failure only: the worker answers as soon as its write returned.
        Atomics.wait(flag, 1, 0, 30_000);
      });
    }
    if (mode === 'exit' || mode === 'late') {
      console.log(JSON.stringify(result));
      process.exit(0);
    }
    worker.terminate().then(() => console.log(JSON.stringify(result)));
  });
}
