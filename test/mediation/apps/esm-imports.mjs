// ESM named imports of child_process and worker_threads (under --import): after reading
// secret/a.txt, an unlabelled command and a worker without provenant are both refused.
import { readFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
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
    worker: attempt(() => new Worker('1', { eval: true, execArgv: [] })),
  }),
);
