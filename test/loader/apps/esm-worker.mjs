// An ESM app that imports Worker (worker_threads first loaded by an import, not a require), then
// hands data to a thread that runs without provenant (no preload in its execArgv or env). With a
// secret read first (argv[2] = a secret file) the thread must not start; else it writes argv[3].
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

const [secret, marker] = process.argv.slice(2);
if (secret !== '-') readFileSync(secret);
try {
  const worker = new Worker(`require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran')`, { eval: true, execArgv: [], env: {} });
  worker.on('exit', (code) => console.log(JSON.stringify({ worker: 'exited', code })));
} catch (error) {
  console.log(JSON.stringify({ worker: error.code }));
}
