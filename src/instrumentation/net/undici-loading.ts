/**
 * When to compose provenant's interceptor onto undici's global dispatcher: as soon as undici
 * exists, and no sooner (loading Node's bundled undici loads worker_threads, a side effect the
 * app must not see before it uses fetch itself: lazy-builtins.ts). Node's bundle creates its
 * default dispatcher as it loads, then loads the worker module, which is where the interceptor is
 * composed, synchronously; npm undici is composed as its `require` returns. Where the worker
 * module is loaded already (always in a worker thread, or after the app's own first load of it), the
 * bundle's read of the (still undefined) global dispatcher as it loads is the signal instead: it is
 * composed before any code queued after that load, or by the first fetch(), whichever comes first.
 * Loading the bundle up front instead cost every worker thread ~14 ms of CPU at start.
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
  const trap = trapDispatcherRead(patcher, () => beforeQueuedCode(() => loadBundle(true)));
  if (trap === undefined) return loadBundle(atPreload);
  // Loaded by the bundle, which has just created its default (npm undici would have been composed already).
  onWorkerModuleLoad(patcher, (byUndici) => {
    if (byUndici) once(true);
  });
  aroundRequire(
    patcher,
    isNpmUndici,
    () => !installed,
    () => trap.quietly(() => target[GLOBAL_DISPATCHER] === undefined),
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

/**
 * Calls `onRead` (once) when code other than provenant's first reads the global dispatcher while it
 * is still undefined: undici (Node's bundle or npm's) reads it as it loads, before it defines its
 * default there. A configurable accessor until then, removed at that read, so undici's own
 * `Object.defineProperty` finds nothing in its way. Undefined when the slot cannot be trapped.
 */
function trapDispatcherRead(patcher: Patcher, onRead: () => void): { quietly<T>(read: () => T): T } | undefined {
  const target = globalThis as { [GLOBAL_DISPATCHER]?: unknown };
  if (Object.getOwnPropertyDescriptor(target, GLOBAL_DISPATCHER) !== undefined) return undefined;
  let quiet = false;
  let armed = true;
  const disarm = (): void => {
    if (!armed) return;
    armed = false;
    if (Object.getOwnPropertyDescriptor(target, GLOBAL_DISPATCHER)?.get === read) delete target[GLOBAL_DISPATCHER];
  };
  function read(): undefined {
    if (quiet) return undefined;
    disarm();
    onRead();
    return undefined;
  }
  Object.defineProperty(target, GLOBAL_DISPATCHER, { get: read, configurable: true, enumerable: false });
  patcher.onRestore(disarm);
  return {
    quietly<T>(fn: () => T): T {
      quiet = true;
      try {
        return fn();
      } finally {
        quiet = false;
      }
    },
  };
}
