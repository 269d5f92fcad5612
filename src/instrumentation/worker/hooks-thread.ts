/**
 * Node's module-hooks thread (`module.register()`, as tsx, ts-node/esm and import-in-the-middle
 * use it) runs provenant like a worker, but Node creates it, not the app's `new Worker`: the
 * first `module.register()` of the main thread does. That call is where it gets what a worker
 * gets from its creator: the service name, and the share through which the main thread closes
 * the thread's journal log at exit (the thread is never told it ends: it is stopped with the
 * process). The values are set for that call only, as the Worker class does.
 */
// The module object itself (not an ES namespace copy): `register` is wrapped on it, and the
// start's syncBuiltinESMExports gives `import { register } from 'node:module'` the wrapper.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import nodeModule = require('node:module');
import { internally, isInternal } from '../../support/reentrancy.js';
import type { ThreadLogs } from '../instrumentation.js';
import type { Patcher } from '../patcher.js';
import { THREAD_LOG_KEY, WORKER_SERVICE_KEY } from './creator.js';

export function handOverToHooksThread(patcher: Patcher, service: string, threadLogs: ThreadLogs): void {
  let handed = false;
  patcher.wrap(
    nodeModule,
    'register',
    (original) =>
      function (this: unknown, ...args: unknown[]): void {
        if (handed || isInternal()) {
          Reflect.apply(original, this, args);
          return;
        }
        handed = true;
        // register() loads Node's worker module for its thread right after: loading it first
        // changes nothing the app can see (no app code runs in between).
        const { setEnvironmentData } = process.getBuiltinModule('node:worker_threads');
        const log = threadLogs.handOver();
        const values: [string, string | SharedArrayBuffer][] = [[WORKER_SERVICE_KEY, service]];
        if (log) values.push([THREAD_LOG_KEY, log]);
        internally(() => {
          for (const [key, value] of values) setEnvironmentData(key, value);
        });
        try {
          Reflect.apply(original, this, args);
        } finally {
          internally(() => {
            for (const [key] of values) setEnvironmentData(key, undefined);
          });
        }
      },
  );
}
