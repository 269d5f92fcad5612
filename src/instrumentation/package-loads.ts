/**
 * Loads of packages (npm undici, gRPC, resource detectors) that instrumentations patch as they load:
 * around a `require` (Module._load, which an ESM `import` of a CommonJS package reaches too) or
 * after a CommonJS file's code has run. Built-ins are seen as they load by builtin-loads.ts.
 */
// The module object itself (not an ES namespace copy): Module._load is wrapped on it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import nodeModule = require('node:module');
import { Patcher, type NativeFunction } from './patcher.js';

/** One caller of `aroundRequire`: its ids, its switch and what it runs around a matching load. */
interface RequireHook {
  readonly matches: (id: string) => boolean;
  readonly active: () => boolean;
  readonly before: () => unknown;
  readonly after: (state: unknown, exports: unknown) => void;
}

/** Every instrumentation's hooks, newest first, behind one wrapper of Module._load. */
const requireHooks: RequireHook[] = [];
let loadWrapped = false;

/**
 * Calls `before` and `after` (with what the load returned) around every `require` of one of `ids`
 * for as long as `active()` says, until `patcher` restores. `ids` may be a test on the id: an ESM `import` of a CommonJS package reaches
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
