/**
 * Built-ins provenant patches when the app first loads them, not at preload. Loading Node's worker
 * module has a side effect Node keeps lazy on purpose: in the main thread it wraps whatever
 * `process.chdir` is at that moment, so an app that replaces `process.chdir` before its first
 * `require('worker_threads')` must see Node wrap its function, as it does without provenant. Node's
 * bundled undici (fetch, Headers, WebSocket) loads that module too.
 *
 * A first load is seen where it happens: `require` (Module._load, also behind require(esm) and
 * createRequire), `process.getBuiltinModule`, and any load inside Node (an ESM `import`, the undici
 * bundle), which no public API reports without a module hook (module hooks are what break Node's
 * loaders, fs/module-loading.ts): there, Node's own assignment to `process.chdir` is the signal.
 */
// The module object itself (not an ES namespace copy): Module._load is wrapped on it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import nodeModule = require('node:module');
import { Patcher, type NativeFunction } from './patcher.js';

/** Whether Node has finished loading one of its own modules (`worker_threads`, `internal/deps/undici/undici`). */
export function builtinLoaded(id: string): boolean {
  const list = (process as { moduleLoadList?: unknown }).moduleLoadList;
  // Without the list (a Node that lacks it), say loaded: the caller then patches at once, never late.
  return !Array.isArray(list) || list.includes(`NativeModule ${id}`);
}

/** Told when Node's worker module loads in this thread; `byUndici` when Node's bundled undici loaded it. */
export type WorkerModuleListener = (byUndici: boolean) => void;

const workerListeners = new Set<WorkerModuleListener>();
let trap: 'none' | 'set' | 'fired' | 'unavailable' = 'none';

/**
 * Calls `listener` synchronously while Node's worker module loads (inside that load: touch nothing of
 * worker_threads' exports there). False when that cannot be seen (the module is loaded already, or
 * `process.chdir` is not a plain property): the caller patches at once instead.
 */
export function onWorkerModuleLoad(patcher: Patcher, listener: WorkerModuleListener): boolean {
  if (trap === 'none') trap = builtinLoaded('worker_threads') || !trapChdirWrapping() ? 'unavailable' : 'set';
  if (trap !== 'set') return false;
  workerListeners.add(listener);
  patcher.onRestore(() => workerListeners.delete(listener));
  return true;
}

/** Node's worker module assigns `process.chdir` as it loads: an accessor sees that assignment, then the data property is put back. */
function trapChdirWrapping(): boolean {
  const own = Object.getOwnPropertyDescriptor(process, 'chdir');
  if (own === undefined || !('value' in own) || own.configurable !== true) return false;
  let current: unknown = own.value;
  const restore = (): void => {
    Object.defineProperty(process, 'chdir', { value: current, writable: true, configurable: true, enumerable: own.enumerable });
  };
  Object.defineProperty(process, 'chdir', {
    configurable: true,
    enumerable: own.enumerable,
    get: () => current,
    set(value: unknown) {
      current = value;
      const caller = callers();
      // Node's worker_threads (or, in some versions, its internal worker module) wraps chdir as it loads.
      if (!caller.some((file) => file === 'node:worker_threads' || file === 'node:internal/worker')) return;
      restore();
      trap = 'fired';
      const byUndici = caller.some((file) => file === 'node:internal/deps/undici/undici');
      for (const listener of workerListeners) listener(byUndici);
    },
  });
  return true;
}

/**
 * Runs `fn` (idempotent) before any code queued after this call: the first of a tick (ticks run
 * before microtasks, so app callbacks queued with nextTick while Node loads come after it) and a
 * microtask (while the asynchronous ESM loader runs, its next step is a microtask).
 */
export function beforeQueuedCode(fn: () => void): void {
  process.nextTick(fn);
  queueMicrotask(fn);
}

/** File names of the frames that called the current setter (the worker module, and what loaded it). */
function callers(): string[] {
  const limit = Error.stackTraceLimit;
  const prepare = Error.prepareStackTrace;
  Error.stackTraceLimit = 40;
  Error.prepareStackTrace = (_error, frames) => frames;
  try {
    const holder: { stack?: NodeJS.CallSite[] } = {};
    Error.captureStackTrace(holder);
    return (holder.stack ?? []).map((frame) => frame.getFileName() ?? '');
  } finally {
    Error.stackTraceLimit = limit;
    Error.prepareStackTrace = prepare;
  }
}

/** One caller of `aroundRequire`: its ids, its switch and what it runs around a matching load. */
interface RequireHook {
  readonly matches: (id: string) => boolean;
  readonly active: () => boolean;
  readonly before: () => unknown;
  readonly after: (state: unknown, exports: unknown) => void;
}

/** Every instrumentation's hooks, newest first, behind one wrapper of Module._load and getBuiltinModule. */
const requireHooks: RequireHook[] = [];
let loadWrapped = false;

/**
 * Calls `before` and `after` (with what the load returned) around every `require` of one of `ids`
 * (and `process.getBuiltinModule` of them), for as long as `active()` says, until `patcher`
 * restores. `ids` may be a test on the id: an ESM `import` of a CommonJS package reaches
 * Module._load with the file's absolute path. All callers share one wrapper, installed once and
 * left in place (inert without hooks), so a load runs through one frame, not one per hook; hooks
 * added later run their `before` first and their `after` last, as nested wrappers would.
 */
export function aroundRequire(
  patcher: Patcher,
  ids: ReadonlySet<string> | ((id: string) => boolean),
  active: () => boolean,
  before: () => unknown,
  after: (state: unknown, exports: unknown) => void,
): void {
  const matches = typeof ids === 'function' ? ids : (id: string): boolean => ids.has(id);
  const hook: RequireHook = { matches, active, before, after };
  requireHooks.unshift(hook);
  patcher.onRestore(() => {
    const index = requireHooks.indexOf(hook);
    if (index !== -1) requireHooks.splice(index, 1);
  });
  if (loadWrapped) return;
  loadWrapped = true;
  const around = (original: NativeFunction): NativeFunction =>
    function (this: unknown, id: unknown): unknown {
      if (typeof id !== 'string') return Reflect.apply(original, this, arguments);
      let matching: RequireHook[] | undefined;
      for (const candidate of requireHooks) {
        if (candidate.active() && candidate.matches(id)) (matching ??= []).push(candidate);
      }
      if (matching === undefined) return Reflect.apply(original, this, arguments);
      const states = matching.map((candidate) => candidate.before());
      const result: unknown = Reflect.apply(original, this, arguments);
      for (let i = matching.length - 1; i >= 0; i--) matching[i].after(states[i], result);
      return result;
    };
  const wrapper = new Patcher();
  wrapper.wrapMethod(nodeModule, '_load', around);
  wrapper.wrapMethod(process, 'getBuiltinModule', around);
}

type CompiledModule = { exports: unknown };

/**
 * Calls `after` with each CommonJS module whose file `matches`, once its code has run and before
 * anyone holds its exports: `Module.prototype._compile` runs for a `require` and for an ESM `import`
 * of a CommonJS file alike (which reaches no `Module._load` unless a module hook is registered).
 */
export function afterCompile(
  patcher: Patcher,
  matches: (file: string) => boolean,
  after: (module: CompiledModule, file: string) => void,
): void {
  patcher.wrapMethod(
    nodeModule.prototype,
    '_compile',
    (original) =>
      function (this: CompiledModule, _content: unknown, file: unknown): unknown {
        const result: unknown = Reflect.apply(original, this, arguments);
        if (typeof file === 'string' && matches(file)) after(this, file);
        return result;
      },
  );
}
