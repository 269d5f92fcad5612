/**
 * worker_threads is patched when the app first loads it (lazy-builtins.ts says why). A `require`
 * or `process.getBuiltinModule` of it is patched before it returns; a load inside Node (an ESM
 * `import`, Node's bundled undici) before any code queued after it (lazy-builtins.ts), so before
 * the importing module's code runs in Node's asynchronous ESM loader. Inside a worker thread the module is loaded already: patched at once.
 */
import { syncBuiltinESMExports } from 'node:module';
import type * as WorkerThreads from 'node:worker_threads';
import { aroundRequire, beforeQueuedCode, builtinLoaded, onWorkerModuleLoad } from '../lazy-builtins.js';
import type { Patcher } from '../patcher.js';

const WORKER_THREADS: ReadonlySet<string> = new Set(['worker_threads', 'node:worker_threads']);

/** Calls `patch` with the worker_threads module object once it is first loaded. */
export function whenWorkerThreadsLoaded(patcher: Patcher, patch: (workerThreads: typeof WorkerThreads) => void): void {
  const getBuiltin = process.getBuiltinModule.bind(process);
  let done = false;
  const apply = (sync: boolean): void => {
    if (done) return;
    done = true;
    patch(getBuiltin('node:worker_threads'));
    if (sync) syncBuiltinESMExports();
  };
  // Patched at once (always in a worker thread): the start syncs the ESM exports once, after every
  // instrumentation is enabled (a sync is ~1 ms of a worker's start).
  if (builtinLoaded('worker_threads') || !onWorkerModuleLoad(patcher, () => beforeQueuedCode(() => apply(true)))) return apply(false);
  aroundRequire(
    patcher,
    WORKER_THREADS,
    () => !done,
    () => undefined,
    () => apply(true),
  );
}
