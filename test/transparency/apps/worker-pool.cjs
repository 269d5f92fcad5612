'use strict';
// A fixed pool of worker threads (the shape of piscina, pino transports, test runners): tasks as
// messages, results back, workerData, a MessageChannel per worker, and files written by threads.
const { Worker, MessageChannel, isMainThread, parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');

if (!isMainThread) {
  const { id, out } = workerData;
  parentPort.once('message', ({ port }) => {
    port.on('message', (task) => {
      if (task === null) return port.close();
      let sum = 0;
      for (let i = 1; i <= task; i++) sum += i;
      fs.writeFileSync(path.join(out, `w${id}-${task}.txt`), String(sum));
      port.postMessage({ id, task, sum });
    });
  });
} else {
  const out = path.join(process.argv[2], 'pool');
  fs.mkdirSync(out, { recursive: true });
  const size = 4;
  const tasks = [10, 20, 30, 40, 50, 60, 70, 80];
  const results = [];
  let pending = tasks.length;
  const ports = [];
  const workers = [];
  for (let id = 0; id < size; id++) {
    const worker = new Worker(__filename, { workerData: { id, out } });
    const { port1, port2 } = new MessageChannel();
    worker.postMessage({ port: port2 }, [port2]);
    port1.on('message', (result) => {
      results.push(result);
      if (--pending === 0) finish();
    });
    ports.push(port1);
    workers.push(worker);
  }
  tasks.forEach((task, i) => ports[i % size].postMessage(task));
  function finish() {
    for (const port of ports) port.postMessage(null);
    for (const port of ports) port.close();
    results.sort((a, b) => a.task - b.task);
    const files = fs.readdirSync(out).sort();
    const fromFiles = files.map((file) => Number(fs.readFileSync(path.join(out, file), 'utf8')));
    console.log(JSON.stringify({ results, files, fromFiles }));
  }
}
