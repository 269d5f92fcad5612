/**
 * Ways the app can reach beneath every patch from inside its own process, refused in enforce mode
 * (rule `introspection`): an inspector session evaluates code with access to any closure's
 * `[[Scopes]]`, so the originals the wrappers and locks keep out of reach (a socket handle's own
 * write, for one) become the app's; V8's natives syntax is outside V8's own security model.
 * - `inspector.Session#post` (and `inspector/promises`, which promisifies it as it loads, after
 *   this patch) sends only methods that hand back no object of the process: CPU profiling and
 *   the heap profiler's sampling (stacks and sizes, no contents). Any other method (`Runtime.*`,
 *   `Debugger.*`, a heap snapshot, `NodeWorker.*` reaching other threads) is refused before the
 *   agent sees it: the callback's error (before `post` returns, as the session's own replies
 *   come), else thrown.
 * - `inspector.open()` and SIGUSR1 (`kill -USR1`, `process._debugProcess`) would start the
 *   inspector's server, which a process the app starts or a socket it opens while clean could
 *   then drive: `open` is refused, and a SIGUSR1 listener takes the signal from Node's (with a
 *   listener, Node does not start the server; with none left, the signal ends the process).
 * - `process.binding('inspector')` gives Node's raw inspector connections and `open`: it returns
 *   a view without them (raw-bindings.ts, with the other raw bindings).
 * - `v8.setFlagsFromString` turning natives syntax on is undone and refused.
 * The start-time forms (`--inspect*`, `--expose-internals`, `--allow-natives-syntax`) are refused
 * before this runs (runtime/introspection-flags.ts). Audit mode patches none of this: debugging an
 * honest app there works as without provenant.
 */
import { diag } from '@opentelemetry/api';
import type { ProvenanceDeniedError } from '../../errors.js';
import { nativesSyntaxOn } from '../../support/introspection-probes.js';
import { isMainThread } from '../../support/main-thread.js';
import { whenBuiltinLoaded } from '../builtin-loads.js';
import type { NativeFunction, Patcher } from '../patcher.js';

/** Inspector methods that return no object of the process, only profiles. */
const SAFE_METHODS = new Set([
  'Profiler.enable',
  'Profiler.disable',
  'Profiler.start',
  'Profiler.stop',
  'Profiler.setSamplingInterval',
  'Profiler.startPreciseCoverage',
  'Profiler.stopPreciseCoverage',
  'Profiler.takePreciseCoverage',
  'Profiler.getBestEffortCoverage',
  'HeapProfiler.enable',
  'HeapProfiler.disable',
  'HeapProfiler.startSampling',
  'HeapProfiler.stopSampling',
  'HeapProfiler.getSamplingProfile',
  'HeapProfiler.collectGarbage',
  'Schema.getDomains',
]);

type Refuse = (what: string) => ProvenanceDeniedError;
type Callback = (error: Error | null) => void;

/** In enforce mode, closes the ways in listed above; `refuse` makes the (recorded) denial. */
export function guardIntrospection(patcher: Patcher, refuse: Refuse): void {
  whenBuiltinLoaded(patcher, 'inspector', (inspector) => guardInspector(inspector as Inspector, patcher, refuse));
  whenBuiltinLoaded(patcher, 'v8', (v8) => guardV8Flags(v8 as V8, patcher, refuse));
  // Signals reach the main thread only.
  if (!isMainThread()) return;
  process.on('SIGUSR1', onDebugSignal);
  patcher.onRestore(() => process.off('SIGUSR1', onDebugSignal));
}

function onDebugSignal(): void {
  diag.warn('provenant: SIGUSR1 would start the inspector, which reaches beneath every mediated API; refused in enforce mode');
}

interface Inspector {
  Session: { prototype: object };
  open?: NativeFunction;
}

function guardInspector(inspector: Inspector, patcher: Patcher, refuse: Refuse): void {
  patcher.wrapMethod(
    inspector.Session.prototype,
    'post',
    (post) =>
      function (this: unknown, ...args: unknown[]): unknown {
        const method = args[0];
        if (typeof method === 'string' && SAFE_METHODS.has(method)) return Reflect.apply(post, this, args);
        const denied = refuse(`the inspector method ${typeof method === 'string' ? method : String(method)}`);
        const callback = args.find((arg): arg is Callback => typeof arg === 'function');
        if (callback === undefined) throw denied;
        // As the session answers a session of this thread: before post returns.
        callback(denied);
        return undefined;
      },
  );
  patcher.wrapMethod(inspector, 'open', () => () => {
    throw refuse("the inspector's server (inspector.open)");
  });
}

interface V8 {
  setFlagsFromString: NativeFunction;
}

function guardV8Flags(v8: V8, patcher: Patcher, refuse: Refuse): void {
  patcher.wrapMethod(
    v8,
    'setFlagsFromString',
    (setFlags) =>
      function (this: unknown, ...args: unknown[]): unknown {
        const result: unknown = Reflect.apply(setFlags, this, args);
        if (!nativesSyntaxOn()) return result;
        // Whatever flag turned it on (the flag itself, one implying it): off again before the app can use it.
        Reflect.apply(setFlags, this, ['--no-allow-natives-syntax']);
        throw refuse("V8's natives syntax (v8.setFlagsFromString)");
      },
  );
}
