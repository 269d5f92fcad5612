// An ESM app that imports Worker (worker_threads first loaded by an import, not a require), then
// starts a thread with no preload in its execArgv or env: provenant runs in it all the same. With
// a secret read first (argv[2] = a secret file) the thread starts with it and its write of argv[3]
// is refused; else it writes argv[3].
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

const [secret, marker] = process.argv.slice(2);
if (secret !== '-') readFileSync(secret);
try {
  const worker = new Worker(`require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran')`, { eval: true, execArgv: [], env: {} });
  let failed;
  worker.on('error', (error) => (failed = error.code));
  worker.on('exit', (code) => console.log(JSON.stringify({ worker: 'exited', code, failed })));
} catch (error) {
  console.log(JSON.stringify({ worker: error.code }));
}
