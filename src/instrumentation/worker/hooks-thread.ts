/**
 * Node's module-hooks thread (`module.register()`, as tsx, ts-node/esm and import-in-the-middle
 * use it) runs provenant like a worker, but Node creates it, not the app's `new Worker`: the
 * first `module.register()` of the main thread does. That call is where it gets what a worker
 * gets from its creator: the service name, and the share through which the main thread closes
 * the thread's journal log at exit (the thread is never told it ends: it is stopped with the
 * process). The values are set for that call only, as the Worker class does.
 *
 * Node runs `--require` preloads in that thread, but not `--import` modules: started any way but
 * as a `--require` preload, provenant registers its own starter (dist/hooks-start.mjs, no hooks)
 * first, so it runs in that thread before the app's hooks module is imported there. Without it
 * the app's hooks would read and write unmediated: an unmonitored thread. So a starter that fails
 * to register fails that register() and every later one.
 */
// The module object itself (not an ES namespace copy): `register` is wrapped on it, and the
// start's syncBuiltinESMExports gives `import { register } from 'node:module'` the wrapper.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import nodeModule = require('node:module');
import { pathToFileURL } from 'node:url';
import { ownFile } from '../../support/own-files.js';
import { internally, isInternal } from '../../support/reentrancy.js';
import type { ThreadLogs } from '../instrumentation.js';
import type { Patcher } from '../patcher.js';
import { THREAD_LOG_KEY, WORKER_SERVICE_KEY } from './creator.js';

/** Node loads `--require` preloads (each thread too, the hooks thread included) from this parent. */
const PRELOAD_PARENT = 'internal/preload';

/**
 * Whether Node will start provenant in its hooks thread by itself: only when this thread loaded the
 * preload as a `--require` preload. Loaded any other way (`--import`, a `require` from app code or
 * from another preload), the starter is registered: when provenant runs there already, the
 * starter's `require` of the same file is a cache hit and starts nothing twice.
 */
function preloadedByRequire(): boolean {
  // Node's require cache (what `require.cache` is), whichever way this module itself was loaded.
  const cache = (nodeModule as unknown as { _cache: Record<string, { parent?: { id?: unknown } | null } | undefined> })._cache;
  return cache[ownFile('register.js')]?.parent?.id === PRELOAD_PARENT;
}

export function handOverToHooksThread(patcher: Patcher, service: string, threadLogs: ThreadLogs): void {
  let handed = false;
  // The starter's failure, thrown again by every later register(): a retry must not run hooks unmediated.
  let starterFailed: { error: unknown } | undefined;
  patcher.wrap(
    nodeModule,
    'register',
    (original) =>
      function (this: unknown, ...args: unknown[]): void {
        if (!isInternal() && starterFailed !== undefined) throw starterFailed.error;
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
          // Node imports registered modules in its thread in call order: the starter's top level
          // runs before the app's hooks module is imported. A starter that fails to load throws
          // here, out of the app's register(): its hooks never run unmediated.
          if (!preloadedByRequire()) {
            try {
              Reflect.apply(original, this, [pathToFileURL(ownFile('hooks-start.mjs')).href]);
            } catch (error) {
              starterFailed = { error };
              throw error;
            }
          }
          Reflect.apply(original, this, args);
        } finally {
          internally(() => {
            for (const [key] of values) setEnvironmentData(key, undefined);
          });
        }
      },
  );
}
