// The first network load of a thread, in a worker (whose stdout is no socket, so nothing loads
// node:net for it). argv: root, mode ('secret' reads secret/a.txt in the worker first, 'clean'
// does not), via ('import-http' | 'require-net' | 'import-tls'), port of a listener on 127.0.0.2.
// The worker records which network built-ins were loaded when its code began, then loads one
// module of the family by `via` (a dynamic ESM import or a require) and sends the data to the
// listener with it. Prints one JSON line: what was loaded at start, how the send ended, and
// whether process.moduleLoadList lists every module of the family by then.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const NETWORK = ['net', 'tls', 'http', 'https', 'dns'];

if (isMainThread) {
  const [root, mode, via, port] = process.argv.slice(2);
  const worker = new Worker(new URL(import.meta.url), { workerData: { root, mode, via, port: Number(port) } });
  worker.once('message', (result) => worker.terminate().then(() => console.log(JSON.stringify(result))));
} else {
  const { root, mode, via, port } = workerData;
  const loadedAtStart = NETWORK.filter((id) => process.moduleLoadList.includes(`NativeModule ${id}`));
  const data = mode === 'secret' ? fs.readFileSync(path.join(root, 'secret', 'a.txt'), 'utf8') : 'nothing secret\n';
  const listed = () => NETWORK.every((id) => process.moduleLoadList.includes(`NativeModule ${id}`));
  const done = (send) => parentPort.postMessage({ loadedAtStart, send, listed: listed() });
  const failed = (error) => done({ code: error.code ?? null });
  if (via === 'import-http') {
    const { request } = await import('node:http');
    const req = request({ host: '127.0.0.2', port, method: 'POST' }, (res) => {
      res.resume();
      done(res.statusCode);
    });
    req.on('error', failed);
    req.end(data);
  } else if (via === 'import-tls') {
    // A raw TLS socket to a plain listener: the handshake fails, but only after the connection.
    const { connect } = await import('node:tls');
    const socket = connect({ host: '127.0.0.2', port, rejectUnauthorized: false });
    socket.on('error', failed);
    socket.on('secureConnect', () => done('connected'));
  } else {
    const net = createRequire(import.meta.url)('node:net');
    const socket = net.connect(port, '127.0.0.2', () => socket.end(data, () => done('sent')));
    socket.on('error', failed);
  }
}
