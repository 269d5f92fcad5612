/**
 * A request keeps the flow context that made it while an undici dispatcher holds it. A `Pool`
 * (or an `Agent`'s pools) with a `connections` limit queues a request it has no free connection
 * for and creates it (`undici:request:create`, where it is decided) only when a connection frees
 * up, from whatever context that happens in. Judged by that context, a request made in a secret
 * context could leave as clean (a false allow) and a clean one carry secret labels.
 *
 * So the first `dispatch` of a request (on undici's dispatcher classes: the base every Client,
 * Pool and Agent inherits) marks a copy of its options with the current context, and every later
 * `dispatch` of options so marked (a dispatcher's queue hands the same options on; copies made
 * with a spread keep the mark) runs in that context. A copy, not the app's object: one options
 * object reused for two requests from two contexts must not lend the first one's context to the
 * second.
 *
 * The classes are found as undici loads: npm undici through `require` or an ESM `import` of it
 * (Module._load), Node's bundled undici through its global dispatcher (fetch.ts), and any copy
 * (one bundled into the app included) as its first dispatcher is constructed
 * (dispatcher-construction.ts). A dispatcher class of a copy provenant never saw load (imported by
 * a path of its own) is also adopted at that copy's first request, from the CommonJS module cache;
 * and a request any copy creates is decided at `undici:request:create` in the scope of the
 * request's API handler, created in the app's call (dispatcher-requests.ts).
 */
import dc from 'node:diagnostics_channel';
import path from 'node:path';
import { diag } from '@opentelemetry/api';
import type { FlowContext, FlowContexts } from '../../provenance/context.js';
import { aroundRequire } from '../package-loads.js';
import type { Patcher } from '../patcher.js';
import { applyIn } from './context-binding.js';
import { adoptDispatchersAsConstructed } from './dispatcher-construction.js';

const MADE_IN = Symbol('provenant.requestContext');

type Marked = { [MADE_IN]?: FlowContext };
type Dispatch = (this: unknown, options: unknown, handler: unknown) => unknown;

/**
 * Marks options provenant just copied (fetch's interceptor) as made in `ctx`, sparing the
 * dispatch wrapper a second copy; a mark the copy carried over stays.
 */
export function markRequestContext<T extends object>(options: T, ctx: FlowContext): T {
  (options as Marked)[MADE_IN] ??= ctx;
  return options;
}

/** npm undici by name (`require`) or by its entry file (an ESM `import` reaches Module._load with the path). */
export const isNpmUndici = (id: string): boolean => id === 'undici' || /[\\/]node_modules[\\/]undici[\\/]index\.js$/.test(id);

/** Marks and keeps request contexts on every dispatcher class `adopt` is given; npm undici's are adopted as it loads. */
export function keepRequestContexts(contexts: FlowContexts, patcher: Patcher): (dispatcher: unknown) => void {
  const wrapped = new WeakSet<object>();

  const dispatchWrapper = (original: Dispatch): Dispatch =>
    function dispatch(this: unknown, options: unknown, handler: unknown): unknown {
      // Each request passes here once per dispatcher level (Agent, Pool, Client): no closure or array in this function.
      if (typeof options !== 'object' || options === null) return original.call(this, options, handler);
      const madeIn = (options as Marked)[MADE_IN];
      if (madeIn === undefined) return original.call(this, { ...options, [MADE_IN]: contexts.current() }, handler);
      if (contexts.current() === madeIn) return original.call(this, options, handler);
      return applyIn(contexts, madeIn, original, this, arguments);
    };

  const adoptPrototype = (start: object): void => {
    for (
      let proto: object | null = start;
      proto !== null && proto !== Object.prototype;
      proto = Object.getPrototypeOf(proto) as object | null
    ) {
      const holder = proto as { dispatch?: unknown };
      const dispatch = Object.getOwnPropertyDescriptor(proto, 'dispatch')?.value as unknown;
      if (typeof dispatch === 'function' && !wrapped.has(dispatch)) {
        patcher.wrap(holder, 'dispatch', (original) => dispatchWrapper(original as Dispatch));
        wrapped.add(holder.dispatch as object);
      }
    }
  };

  // Every copy, bundled ones included, as its first dispatcher is constructed.
  adoptDispatchersAsConstructed(patcher, adoptPrototype);

  /** A dispatcher instance or class: every `dispatch` of its prototype chain. */
  const adopt = (dispatcher: unknown): void => {
    if (typeof dispatcher === 'function') adoptPrototype((dispatcher as { prototype: object }).prototype);
    else if (typeof dispatcher === 'object' && dispatcher !== null) adoptPrototype(Object.getPrototypeOf(dispatcher) as object);
  };

  // A copy of undici the hook below never saw load (required by its directory, a second version
  // deeper in node_modules) shows itself with its first request: adopted then, from the module
  // cache, before any of its dispatchers can hold a request in a queue (a queue forms only once
  // every connection carries a request already created).
  const seenCopies = new WeakSet<object>();
  const discover = (message: unknown): void => {
    try {
      const RequestClass = (message as { request?: { constructor?: unknown } }).request?.constructor;
      if (typeof RequestClass !== 'function' || seenCopies.has(RequestClass)) return;
      seenCopies.add(RequestClass);
      const exports = undiciExports(RequestClass);
      if (exports !== undefined) adoptExports(exports);
    } catch (error) {
      diag.warn('provenant: adopting a copy of undici failed', error);
    }
  };
  dc.subscribe('undici:request:create', discover);
  patcher.onRestore(() => dc.unsubscribe('undici:request:create', discover));

  aroundRequire(
    patcher,
    isNpmUndici,
    () => true,
    () => undefined,
    (_state, exports) => adoptExports(exports),
  );

  /** Every exported class with a dispatch (Client, Pool, Agent, RetryAgent, ProxyAgent, ...); data properties only. */
  function adoptExports(exports: unknown): void {
    if (typeof exports !== 'object' || exports === null) return;
    for (const { value } of Object.values(Object.getOwnPropertyDescriptors(exports))) {
      const proto: unknown = typeof value === 'function' ? (value as { prototype?: unknown }).prototype : undefined;
      if (typeof proto === 'object' && proto !== null && 'dispatch' in proto) adopt(value);
    }
  }
  return adopt;
}

/**
 * The exports of the undici package whose `lib/core/request.js` exports `RequestClass`, from the
 * CommonJS module cache; undefined for a copy not loaded from files (Node's bundled one, a bundle).
 */
function undiciExports(RequestClass: object): unknown {
  const cache = require.cache;
  for (const [file, loaded] of Object.entries(cache)) {
    if (loaded?.exports !== RequestClass || !file.endsWith(path.join('lib', 'core', 'request.js'))) continue;
    return cache[path.resolve(file, '..', '..', '..', 'index.js')]?.exports;
  }
  return undefined;
}
