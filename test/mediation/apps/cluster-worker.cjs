'use strict';
// A cluster (round-robin: the primary accepts and passes each connection to the worker): the
// worker reads secret/a.txt at start, then listens; the primary asks it once over HTTP. Prints
// {listening, status, handled} from the primary. argv[3]: the IPC serialization ('json' or 'advanced').
const cluster = require('node:cluster');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const root = process.argv[2];
cluster.schedulingPolicy = cluster.SCHED_RR;
if (cluster.isPrimary) {
  cluster.setupPrimary({ serialization: process.argv[3] ?? 'json' });
  const worker = cluster.fork();
  let handled = false;
  worker.on('message', (message) => (handled = message === 'handled'));
  worker.on('listening', ({ port }) => {
    http.get({ host: '127.0.0.1', port, agent: false }, (res) => {
      res.resume();
      res.on('end', () => {
        console.log(JSON.stringify({ listening: true, status: res.statusCode, handled }));
        worker.kill();
      });
    });
  });
} else {
  fs.readFileSync(path.join(root, 'secret', 'a.txt'), 'utf8');
  http
    .createServer((req, res) => {
      process.send('handled', () => res.end('hello'));
    })
    .listen(0, '127.0.0.1');
}
