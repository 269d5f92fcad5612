/**
 * When to compose provenant's interceptor onto undici's global dispatcher: as soon as undici
 * exists, and no sooner (loading Node's bundled undici loads worker_threads, a side effect the
 * app must not see before it uses fetch itself: lazy-builtins.ts). Node's bundle creates its
 * default dispatcher as it loads, then loads the worker module, which is where the interceptor is
 * composed, synchronously; npm undici is composed as its `require` returns. After any other first
 * load of the worker module (the app's own), the bundle is loaded by the first fetch() or before
 * any code queued after that load, whichever comes first.
 */
import { aroundRequire, beforeQueuedCode, builtinLoaded, onWorkerModuleLoad } from '../lazy-builtins.js';
import type { Patcher } from '../patcher.js';
import { isNpmUndici } from './dispatcher-context.js';

/** Where Node's bundled undici (and npm undici ≥ 6) keeps the global dispatcher. */
export const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

/** Calls `install` once undici's global dispatcher exists; `created` when undici created it (its default), not the app. */
export function whenUndiciLoads(patcher: Patcher, install: (created: boolean) => void): void {
  const target = globalThis as { [GLOBAL_DISPATCHER]?: unknown };
  let installed = false;
  const once = (created: boolean): void => {
    if (installed || target[GLOBAL_DISPATCHER] === undefined) return;
    installed = true;
    install(created);
  };
  /** `created`: no dispatcher existed before, so the one the bundle has is its default (the app cannot set the bundle's). */
  const loadBundle = (created: boolean): void => {
    if (installed) return;
    void globalThis.Headers;
    once(created);
  };
  const atPreload = target[GLOBAL_DISPATCHER] === undefined;
  if (!atPreload || builtinLoaded('internal/deps/undici/undici')) return loadBundle(atPreload);
  const watching = onWorkerModuleLoad(patcher, (byUndici) => {
    // Loaded by the bundle, which has just created its default (npm undici would have been composed already).
    if (byUndici) once(true);
    // The app's own first load: the bundle is loaded after this synchronous code, or by a fetch() in it.
    else beforeQueuedCode(() => loadBundle(true));
  });
  if (!watching) return loadBundle(atPreload);
  aroundRequire(
    patcher,
    isNpmUndici,
    () => !installed,
    () => target[GLOBAL_DISPATCHER] === undefined,
    (undefinedBefore) => once(undefinedBefore === true),
  );
  // fetch() takes the global dispatcher as it is called: composed first. Until then no dispatcher
  // but undici's default can exist (npm undici's is composed as it loads).
  patcher.wrapMethod(
    globalThis,
    'fetch',
    (original) =>
      function fetch(this: unknown): unknown {
        if (!installed) loadBundle(true);
        return Reflect.apply(original, this, arguments);
      },
  );
}
