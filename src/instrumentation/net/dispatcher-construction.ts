/**
 * Finds every copy of undici by its dispatchers, as they are constructed. A copy bundled into the
 * app (esbuild, webpack) is never loaded as a module provenant could see, and nothing it does
 * inside the app's `dispatch` call is observable for a request a `Pool` queues (it pushes the
 * options and handler on a private queue). But every undici dispatcher is an EventEmitter of
 * `node:events` (undici's `Dispatcher` extends it; a bundler targeting Node leaves built-ins to
 * Node), and Node's EventEmitter constructor calls `EventEmitter.init` with the new object, whose
 * prototype chain is already its class's. So a dispatcher is seen before anything can dispatch on
 * it, and its class's `dispatch` is adopted then (dispatcher-context.ts), whatever its class is
 * called (a minifier renames classes, never the `dispatch`/`compose` API).
 *
 * Cost: a prototype lookup per EventEmitter constructed (sockets, streams, servers), and a WeakSet
 * probe when its class differs from the last one's; a prototype is examined once.
 */
import { EventEmitter } from 'node:events';
import { diag } from '@opentelemetry/api';
import type { Patcher } from '../patcher.js';

type Init = (this: unknown, opts?: unknown) => unknown;

/** Calls `adopt` with the prototype of each undici-shaped dispatcher as the first of its class is constructed. */
export function adoptDispatchersAsConstructed(patcher: Patcher, adopt: (prototype: object) => void): void {
  const examined = new WeakSet<object>();
  // Emitters of one class tend to be made in runs (sockets, streams): the last prototype seen skips the WeakSet.
  let last: object | null = null;
  const holder = EventEmitter as unknown as { init: Init };
  // Runs inside the app's constructor, which must not fail for provenant's sake (a frozen class).
  const adoptQuietly = (proto: object): void => {
    try {
      adopt(proto);
    } catch (error) {
      diag.warn('provenant: patching the dispatch of an undici dispatcher class failed', error);
    }
  };
  patcher.wrap(
    holder,
    'init',
    (original) =>
      // Node's init takes one argument; passing it alone spares materialising `arguments` on this hot path.
      function init(this: unknown, opts?: unknown): unknown {
        if (typeof this === 'object' && this !== null) {
          const proto = Object.getPrototypeOf(this) as object | null;
          if (proto !== last && proto !== null) {
            last = proto;
            if (!examined.has(proto)) {
              examined.add(proto);
              if (isUndiciDispatcher(proto)) adoptQuietly(proto);
            }
          }
        }
        return original.call(this, opts);
      },
  );
}

/**
 * undici's Dispatcher API on the chain: `dispatch(opts, handler)` (two parameters, as undici itself
 * requires of a dispatch), `compose`, `close` and `destroy`, read as data properties (no getter
 * runs). A store's `dispatch(action)` beside a `compose` is not taken for one: its action must
 * reach it as the object it is, not as a copy.
 */
function isUndiciDispatcher(proto: object): boolean {
  const dispatch = methodOf(proto, 'dispatch');
  return (
    typeof dispatch === 'function' &&
    dispatch.length === 2 &&
    ['compose', 'close', 'destroy'].every((name) => typeof methodOf(proto, name) === 'function')
  );
}

function methodOf(start: object, name: string): unknown {
  for (let proto: object | null = start; proto !== null; proto = Object.getPrototypeOf(proto) as object | null) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, name);
    if (descriptor !== undefined) return descriptor.value;
  }
  return undefined;
}
