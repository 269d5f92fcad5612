/**
 * When to compose provenant's interceptor onto undici's global dispatcher: as soon as undici
 * exists, and no sooner (loading Node's bundled undici loads worker_threads, a side effect the
 * app must not see before it uses fetch itself: builtin-loads.ts). Node's bundle creates its
 * default dispatcher as it loads and is composed as that load completes, before fetch(),
 * WebSocket or anything else gets the bundle (builtin-loads.ts sees the load however it happens:
 * the `fetch` global's first call, a lazy global such as `Headers`, an ESM import inside Node);
 * npm undici is composed as its `require` returns. Loading the bundle up front instead cost every
 * worker thread ~14 ms of CPU at start.
 */
import { builtinLoaded, whenBuiltinLoaded } from '../builtin-loads.js';
import { aroundRequire } from '../package-loads.js';
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
  if (target[GLOBAL_DISPATCHER] !== undefined) return once(false);
  const UNDICI = 'internal/deps/undici/undici';
  whenBuiltinLoaded(
    patcher,
    UNDICI,
    // undici's own default is defined as a fixed property (setGlobalDispatcher); one the app
    // assigned to the slot before the bundle loaded is a plain one, and the bundle keeps it.
    () => once(Object.getOwnPropertyDescriptor(target, GLOBAL_DISPATCHER)?.configurable === false),
    // Where a load cannot be seen, the bundle is loaded now (a lazy global's getter loads it); not
    // from within its load, which may be that very getter's.
    () => (builtinLoaded(UNDICI) ? undefined : globalThis.Headers),
  );
  aroundRequire(
    patcher,
    isNpmUndici,
    () => !installed,
    () => target[GLOBAL_DISPATCHER] === undefined,
    (undefinedBefore) => once(undefinedBefore === true),
  );
}
