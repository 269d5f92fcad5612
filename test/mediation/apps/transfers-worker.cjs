'use strict';
// The worker of transfers.cjs.
const fs = require('node:fs');
const path = require('node:path');
const { parentPort, workerData } = require('node:worker_threads');
const provenant = require(process.env.PROVENANT_DIST_INDEX);

const { root, mode, publicFd, secretFd } = workerData;
const failed = (error) => ({ code: error.code, rule: error.rule });
const tried = async (fn) => {
  try {
    await fn();
    return 'written';
  } catch (error) {
    return failed(error);
  }
};

parentPort.once('message', async ({ handle, port }) => {
  const result = {};
  if (mode === 'secret') {
    // Read through the fd the main thread opened: the worker's context now holds the secret.
    const buffer = Buffer.alloc(64);
    result.readSecretFd = fs.readSync(secretFd, buffer, 0, 64, 0);
  }
  const data = mode === 'secret' ? 'patient data\n' : 'nothing secret\n';
  result.fd = await tried(() => fs.writeSync(publicFd, `fd: ${data}`));
  result.handle = await tried(() => handle.write(`handle: ${data}`));
  result.port = await tried(() => port.postMessage(`port: ${data}`));
  result.leak = await tried(() => fs.writeFileSync(path.join(root, 'out', 'public', 'leak.txt'), data));
  await provenant.run(async () => {
    fs.writeSync(publicFd, 'fd: public\n');
    await handle.write('handle: public\n');
    port.postMessage('port: public\n');
  });
  await handle.close();
  port.close();
  provenant.run(() => parentPort.postMessage(result));
});
