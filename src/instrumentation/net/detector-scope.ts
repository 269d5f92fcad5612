/**
 * Resource detectors whose metadata queries no call stack can attribute. The GCP detector
 * queries through gcp-metadata, gaxios and node-fetch, from promise callbacks: at `http.request`
 * the callers on the stack are node-fetch and gaxios, the very modules the app's own
 * google-auth-library traffic to the same server goes through. So the detector's own call is
 * marked instead: when its package loads, its `detect()` is wrapped to run in an async scope of
 * provenant's own, which everything the detector starts inherits (its promises, timers and
 * requests) and nothing else does (the app's callbacks on the detector's promises run in the app's
 * context). A request to the metadata server is then the SDK's only inside that scope.
 *
 * Seen where the package loads through `require` (the CommonJS build, as NodeSDK and
 * auto-instrumentations load it); an ES module import of its ESM build is not seen, and its
 * queries stay decided as data (closed, not open).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { aroundRequire } from '../lazy-builtins.js';
import type { Patcher } from '../patcher.js';

export type DetectorScope = 'gcp';

const scope = new AsyncLocalStorage<DetectorScope>();

/** The detector whose call chain is running now, if any. */
export function detectorScope(): DetectorScope | undefined {
  return scope.getStore();
}

/**
 * The package by name, or by path: its folder, or its CommonJS entry (which an ESM `import` of
 * that file reaches Module._load with).
 */
const isGcpDetector = (id: string): boolean =>
  id === '@opentelemetry/resource-detector-gcp' ||
  /[\\/]node_modules[\\/]@opentelemetry[\\/]resource-detector-gcp([\\/]dist[\\/]index\.cjs)?[\\/]?$/.test(id);

/** Wraps the detectors' `detect()` as their packages load. */
export function scopeDetectors(patcher: Patcher): void {
  const wrapped = new WeakSet<object>();
  aroundRequire(
    patcher,
    isGcpDetector,
    () => true,
    () => undefined,
    (_state, exports) => {
      const detector = typeof exports === 'object' && exports !== null ? (exports as { gcpDetector?: unknown }).gcpDetector : undefined;
      const proto = typeof detector === 'object' && detector !== null ? (Object.getPrototypeOf(detector) as object | null) : null;
      // The class every instance shares (the package's `gcpDetector` and any `new GcpDetector()`), once.
      if (proto === null || wrapped.has(proto) || typeof (proto as { detect?: unknown }).detect !== 'function') return;
      wrapped.add(proto);
      patcher.wrapMethod(
        proto,
        'detect',
        (original) =>
          function (this: unknown, ...args: unknown[]): unknown {
            return scope.run('gcp', (): unknown => Reflect.apply(original, this, args));
          },
      );
    },
  );
}
