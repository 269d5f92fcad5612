/**
 * Built-ins patched as Node first loads them in this thread, not at preload, however they are
 * loaded: `require` (and `module.constructor._load`, createRequire, require(esm)),
 * `process.getBuiltinModule`, an ESM `import` (which no public API reports short of a module hook,
 * and module hooks are what break Node's loaders: fs/module-loading.ts), or a load inside Node
 * (its bundled undici, which loads `worker_threads`). The one first-load mechanism for built-ins:
 * `worker_threads` and Node's bundled undici (fetch, WebSocket) wait here too. Loading them has a
 * side effect Node keeps lazy on purpose (in the main thread `worker_threads` wraps whatever
 * `process.chdir` is at that moment, and an app that replaces `process.chdir` before its first
 * load must see Node wrap its function), so provenant never loads them itself.
 *
 * Every one of those ends in Node's internal loader, which appends `NativeModule <id>` to the very
 * array `process.moduleLoadList` exposes once the module's code has run, before it returns the
 * module to anyone, and before an ESM import takes the module's named exports (Node re-reads them
 * from the module object as each public load returns). Appending a new index to an array consults
 * its prototype chain, so a Proxy set as that array's prototype sees each load as it completes:
 * the listener patches the module there, synchronously, and no code gets it unpatched. Built-ins
 * are not in `require.cache`; `process.binding` reaches raw bindings, beneath any module, loaded or not.
 *
 * A listener may use the module it is called for and modules loaded before it, not one still
 * loading (a module that loads the watched one may be half-way through its own code).
 * Where no load can be seen (no list, or one that takes no prototype), the module is loaded and
 * patched at once, as at preload. A listener that throws is reported as an instrumentation that
 * fails to enable at start is (runtime.ts), and never fails the app's load.
 */
import { diag } from '@opentelemetry/api';
import type { Patcher } from './patcher.js';

export type LoadListener = (exports: unknown) => void;

/** Whether Node has finished loading built-in `id` (`'worker_threads'`, `'internal/deps/undici/undici'`) in this thread. */
export function builtinLoaded(id: string): boolean {
  const list = (process as { moduleLoadList?: unknown }).moduleLoadList;
  // Without the list (a Node that lacks it), say loaded: the caller then patches at once, never late.
  return !Array.isArray(list) || list.includes(`NativeModule ${id}`);
}

const PREFIX = 'NativeModule ';
/** Patches waiting, by the moduleLoadList entry of the built-in they wait for. */
const waiting = new Map<string, Set<() => void>>();
let trapped: { list: unknown[]; trap: object; prototype: object | null } | undefined;

/**
 * Calls `listener` with the module object of built-in `id` (`'http2'`) once it is loaded in this
 * thread. For an internal module (`'internal/fs/promises'`, which `fs.promises` loads without the
 * public `fs/promises`), `exportsOf` says where its public face is.
 */
export function whenBuiltinLoaded(
  patcher: Patcher,
  id: string,
  listener: LoadListener,
  exportsOf: () => unknown = () => process.getBuiltinModule(`node:${id}`),
): void {
  const call = (): void => patch(id, () => listener(exportsOf()));
  if (builtinLoaded(id) || !trapLoads()) {
    call();
    return;
  }
  const entry = PREFIX + id;
  let listeners = waiting.get(entry);
  if (listeners === undefined) waiting.set(entry, (listeners = new Set()));
  const added = listeners;
  added.add(call);
  patcher.onRestore(() => {
    added.delete(call);
    if (added.size === 0 && waiting.get(entry) === added) waiting.delete(entry);
    untrapWhenIdle();
  });
}

function trapLoads(): boolean {
  if (trapped !== undefined) return true;
  const list = (process as { moduleLoadList?: unknown }).moduleLoadList;
  if (!Array.isArray(list)) return false;
  const prototype = Reflect.getPrototypeOf(list);
  if (prototype === null) return false;
  const trap = new Proxy(prototype, {
    set(target, key, value: unknown, receiver: unknown): boolean {
      const done = Reflect.set(target, key, value, receiver);
      if (done && typeof value === 'string') loaded(value);
      return done;
    },
  });
  if (!Reflect.setPrototypeOf(list, trap)) return false;
  trapped = { list: list as unknown[], trap, prototype };
  return true;
}

function loaded(entry: string): void {
  const listeners = waiting.get(entry);
  if (listeners === undefined) return;
  waiting.delete(entry);
  for (const call of listeners) call();
  untrapWhenIdle();
}

function patch(id: string, apply: () => void): void {
  try {
    apply();
  } catch (error) {
    diag.error(`provenant: patching node:${id} failed`, error);
  }
}

/** With nothing left to wait for, the array gets its own prototype back. */
function untrapWhenIdle(): void {
  if (waiting.size > 0 || trapped === undefined) return;
  if (Reflect.getPrototypeOf(trapped.list) === trapped.trap) Reflect.setPrototypeOf(trapped.list, trapped.prototype);
  trapped = undefined;
}
