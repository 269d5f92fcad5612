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
 * patched at once, as at preload. A listener that throws is a failed patch, handled as the runtime
 * chose (runtime/patch-failures.ts: enforce mode stops the process, audit mode says so).
 */
import { diag } from '@opentelemetry/api';
import { framesOf } from './caller.js';
import type { Patcher } from './patcher.js';

export type LoadListener = (exports: unknown) => void;

/** Whether Node has finished loading built-in `id` (`'worker_threads'`, `'internal/deps/undici/undici'`) in this thread. */
export function builtinLoaded(id: string): boolean {
  const list = (process as { moduleLoadList?: unknown }).moduleLoadList;
  // Without the list (a Node that lacks it), say loaded: the caller then patches at once, never late.
  return !Array.isArray(list) || list.includes(`NativeModule ${id}`) || toRestore.includes(`NativeModule ${id}`);
}

/**
 * Entries Node appended while a listener ran (the modules a patch loaded): the load whose entry
 * the listener was called for sets the list's length back to just past that entry once its
 * append returns, which drops them. They are appended again once the current run of code ends.
 */
const toRestore: string[] = [];
let restoring = false;

function restoreLater(list: unknown[], entries: readonly string[]): void {
  if (toRestore.length === 0) {
    queueMicrotask(() => {
      restoring = true;
      try {
        list.push(...toRestore.splice(0));
      } finally {
        restoring = false;
      }
    });
  }
  toRestore.push(...entries);
}

const PREFIX = 'NativeModule ';
/** Patches waiting, by the moduleLoadList entry of the built-in they wait for. */
const waiting = new Map<string, Set<() => void>>();
/** Patches waiting for the first load of any of a set of built-ins (`whenFirstLoaded`). */
const groups = new Set<{ readonly entries: ReadonlySet<string>; readonly call: () => void }>();
/** Patches whose group loaded, waiting for the outermost built-in load in progress to finish. */
const pending: (() => void)[] = [];

/**
 * The built-ins through which any code reaches the network (every other module that does, such as
 * `http2`, `child_process`, `dgram` or Node's undici, loads one of them first).
 */
export const NETWORK_BUILTINS: readonly string[] = ['net', 'tls', 'http', 'https', 'dns', 'dns/promises', 'internal/dns/promises'];
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

/**
 * Calls `listener` once, after the first load in this thread of any of built-ins `ids`, as soon as
 * no built-in is still loading: an app's `require('http')` loads `net` inside, and http is
 * half-way through its own code when net's load completes. So the listener may load and use
 * every one of `ids` (and what they load) and patch them all, before any of them is returned to
 * anyone. A listener for one module (`whenBuiltinLoaded`) whose load ends that outermost load is
 * called after it.
 */
export function whenFirstLoaded(patcher: Patcher, ids: readonly string[], listener: () => void): void {
  const call = (): void => patch(ids[0], listener);
  if (ids.some(builtinLoaded) || !trapLoads()) {
    call();
    return;
  }
  const group = { entries: new Set(ids.map((id) => PREFIX + id)), call };
  groups.add(group);
  patcher.onRestore(() => {
    groups.delete(group);
    untrapWhenIdle();
  });
}

/**
 * Built-in loads in progress: each is one frame of Node's internal loader, the innermost of them
 * the load whose completion is being seen. A Node that names it differently counts none, and
 * its waiting patches run at the first load (a module half-loaded then may fail to patch: a failed
 * patch, see onPatchFailure; README, lazy-loading limits).
 */
function loadsInProgress(): number {
  return framesOf('node:internal/bootstrap/realm', 'compileForInternalLoader');
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
      if (!done || typeof value !== 'string' || restoring) return done;
      const end = list.length;
      loaded(value);
      if (list.length > end) restoreLater(list, list.slice(end) as string[]);
      return done;
    },
  });
  if (!Reflect.setPrototypeOf(list, trap)) return false;
  trapped = { list: list as unknown[], trap, prototype };
  return true;
}

function loaded(entry: string): void {
  for (const group of groups) {
    if (!group.entries.has(entry)) continue;
    groups.delete(group);
    pending.push(group.call);
  }
  // A module's own entry is appended inside its load; any other entry (an internal binding) may be
  // appended half-way through a module's code. What a group's patch loads may start other groups.
  if (pending.length > 0 && loadsInProgress() <= (entry.startsWith(PREFIX) ? 1 : 0)) {
    for (let call = pending.shift(); call !== undefined; call = pending.shift()) call();
  }
  const listeners = waiting.get(entry);
  if (listeners !== undefined) {
    waiting.delete(entry);
    for (const call of listeners) call();
  }
  untrapWhenIdle();
}

/** What a failed patch does: logged, unless the runtime chose otherwise (enforce mode stops the process). */
let patchFailed = (id: string, error: unknown): void => {
  diag.error(`provenant: patching node:${id} failed`, error);
};

/** Replaces what a failed patch of a built-in does, at start or when the built-in first loads. */
export function onPatchFailure(handler: (id: string, error: unknown) => void): void {
  patchFailed = handler;
}

function patch(id: string, apply: () => void): void {
  try {
    apply();
  } catch (error) {
    patchFailed(id, error);
  }
}

/** With nothing left to wait for, the array gets its own prototype back. */
function untrapWhenIdle(): void {
  if (waiting.size > 0 || groups.size > 0 || pending.length > 0 || trapped === undefined) return;
  if (Reflect.getPrototypeOf(trapped.list) === trapped.trap) Reflect.setPrototypeOf(trapped.list, trapped.prototype);
  trapped = undefined;
}
