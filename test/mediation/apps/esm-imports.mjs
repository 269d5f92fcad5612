// ESM named imports of child_process, worker_threads and v8 (under --import; the preload loads
// none of the three, each is patched as it loads): after reading secret/a.txt, an unlabelled
// command, a worker that could not run provenant (it carries the export-thread mark) and a heap
// snapshot to out/public are all refused.
import { readFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { writeHeapSnapshot } from 'node:v8';
import { Worker } from 'node:worker_threads';
import path from 'node:path';

const root = process.argv[2];
readFileSync(path.join(root, 'secret', 'a.txt'));
const attempt = (fn) => {
  try {
    fn();
    return 'done';
  } catch (error) {
    return error.rule ?? error.code;
  }
};
console.log(
  JSON.stringify({
    execSync: attempt(() => execSync(`touch ${path.join(root, 'out', 'public', 'ran-esm')}`)),
    worker: attempt(() => new Worker('1', { eval: true, workerData: { provenantExportWorker: true } })),
    heapSnapshot: attempt(() => writeHeapSnapshot(path.join(root, 'out', 'public', 'esm.heapsnapshot'))),
  }),
);
