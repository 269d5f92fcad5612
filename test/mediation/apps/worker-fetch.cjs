'use strict';
// fetch and WebSocket from a worker thread under provenant, where Node's bundled undici is loaded
// only when the app first uses it. argv: root, mode ('secret' reads secret/a.txt first, 'clean'
// does not), via ('fetch' | 'websocket' | 'websocket-at-load'), target (http://host:port/). The
// main thread hands the data to a worker as workerData; the worker touches an undici global other
// than fetch first (Headers, which loads the bundle), then, in a later turn, sends the data by
// `via`; 'websocket-at-load' opens the WebSocket at once, in the run that first loads undici. Prints one
// JSON line: how the send ended in the worker, and whether undici and SQLite were loaded before the app's code ran.
const fs = require('node:fs');
const path = require('node:path');
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');

if (isMainThread) {
  const [root, mode, via, target] = process.argv.slice(2);
  const data = mode === 'secret' ? fs.readFileSync(path.join(root, 'secret', 'a.txt'), 'utf8') : 'nothing secret\n';
  const worker = new Worker(__filename, { workerData: { data, via, target } });
  worker.once('message', (result) => worker.terminate().then(() => console.log(JSON.stringify(result))));
} else {
  const { data, via, target } = workerData;
  // What the preload left unloaded: undici until the app uses it, SQLite until a file flow needs the store.
  const undiciAtStart = process.moduleLoadList.includes('NativeModule internal/deps/undici/undici');
  const sqliteAtStart = process.moduleLoadList.includes('NativeModule sqlite');
  const send = () => {
    if (via === 'fetch') {
      fetch(target, { method: 'POST', body: data })
        .then((response) => parentPort.postMessage({ undiciAtStart, sqliteAtStart, fetch: response.status }))
        .catch((error) =>
          parentPort.postMessage({ undiciAtStart, sqliteAtStart, fetch: { code: error.cause?.code ?? error.code ?? null } }),
        );
    } else {
      const socket = new WebSocket(target.replace('http:', 'ws:'));
      socket.onopen = () => {
        socket.send(data);
        socket.close();
      };
      // Node 22's undici reports a failed handshake with 'error' and no 'close'.
      let ended = false;
      socket.onerror = socket.onclose = () => {
        if (!ended) parentPort.postMessage({ undiciAtStart, sqliteAtStart, websocket: 'closed' });
        ended = true;
      };
    }
  };
  if (via === 'websocket-at-load') send();
  else {
    void new Headers();
    setImmediate(send);
  }
}
