/**
 * Resource detectors whose metadata queries no call stack at `http.request` can attribute. The GCP
 * detector queries through gcp-metadata, gaxios and node-fetch, from promise callbacks: at
 * `http.request` the callers on the stack are node-fetch and gaxios, the very modules the app's own
 * google-auth-library traffic to the same server goes through. One step earlier the stack does
 * tell: the detector calls gcp-metadata's query functions (`isAvailable`, `instance`, `project`)
 * directly from its own files. So those functions are wrapped as gcp-metadata is compiled, and a
 * call whose caller is one of the detector's files runs in an async scope of provenant's own,
 * which everything that query starts inherits (gaxios's promises, retries' timers, requests) and
 * nothing else does (the app's callbacks on the returned promise run in the app's context). A
 * request to the metadata server is then the SDK's only inside that scope.
 *
 * gcp-metadata is CommonJS only, so it is compiled through `Module.prototype._compile` however the
 * detector is loaded: `require` of its CommonJS build, an ES `import` of its ESM build (whose
 * `import * as metadata from 'gcp-metadata'` compiles the CommonJS file), and the same under
 * import-in-the-middle's loader. The detector's files are told by path in either build.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { calledFrom } from '../caller.js';
import { afterCompile } from '../package-loads.js';
import type { Patcher } from '../patcher.js';

export type DetectorScope = 'gcp';

const scope = new AsyncLocalStorage<DetectorScope>();

/** The detector whose call chain is running now, if any. */
export function detectorScope(): DetectorScope | undefined {
  return scope.getStore();
}

/** gcp-metadata's entry (any copy of the package). */
const GCP_METADATA = /[\\/]node_modules[\\/]gcp-metadata[\\/]build[\\/]src[\\/]index\.js$/;
/** The GCP detector's own files, CommonJS and ESM builds: the only callers whose queries are the SDK's. */
const GCP_DETECTOR = /[\\/]node_modules[\\/]@opentelemetry[\\/]resource-detector-gcp[\\/]dist[\\/]detectors[\\/][^\\/]+\.(c|m)?js$/;
/** gcp-metadata's exported functions that query the metadata server. */
const QUERIES = ['isAvailable', 'instance', 'project', 'universe', 'bulk'];

/** Wraps gcp-metadata's queries as it is compiled: the detector's calls run in its scope. */
export function scopeDetectors(patcher: Patcher): void {
  afterCompile(
    patcher,
    (file) => GCP_METADATA.test(file),
    (module) => {
      const exports = module.exports;
      if (typeof exports !== 'object' || exports === null) return;
      for (const name of QUERIES)
        patcher.wrapMethod(
          exports,
          name,
          (original) =>
            function (this: unknown, ...args: unknown[]): unknown {
              if (!calledFrom(GCP_DETECTOR)) return Reflect.apply(original, this, args);
              return scope.run('gcp', (): unknown => Reflect.apply(original, this, args));
            },
        );
    },
  );
}
