/**
 * Loading dist/provenant.js (the one bundle, scripts/bundle.mjs) with V8's code cache: a thread
 * under provenant hands the workers it creates the compiled code of the bundle it runs, so a worker
 * neither reads, parses nor compiles the half-megabyte again (~10 ms of every worker's CPU at start). The
 * bundle is compiled as Node's CommonJS loader would and registered in `require.cache`, so the API
 * (dist/index.js) and the preload still share one copy. dist/register.js runs `loadBundle`; the
 * worker instrumentation asks `bundleCodeForWorker` what to hand over. Both are built from this
 * file into different outputs, so what they share lives on globalThis.
 *
 * A cache is used only for the very file it was made from (path, size, mtime and inode as the
 * creator saw them): V8 checks only the source's length, and code compiled from other source must
 * never run. One V8 rejects (other flags or version) is dropped and the source compiled as usual.
 * With `--enable-source-maps` the bundle is left to Node's loader, which alone applies its source
 * map to stack traces: nothing is handed to workers then.
 */
import { readFileSync, statSync } from 'node:fs';
// The module object itself: Module.wrap, Module._nodeModulePaths, the Module class.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import nodeModule = require('node:module');
import path from 'node:path';
import vm from 'node:vm';

/** Environment data key of the code handed to a worker (reserved for provenant, worker-class.ts). */
export const BUNDLE_CODE_KEY = 'provenant.bundle-code';

/** What a thread hands a worker: the source, its code cache, and the identity of the file they came from. */
export interface BundleCode {
  readonly file: string;
  readonly identity: string;
  readonly source: string;
  readonly data: Uint8Array;
}

interface Loaded {
  readonly file: string;
  readonly identity: string;
  readonly source: string;
  readonly script: vm.Script;
  /** The cache this thread was handed and V8 accepted, handed on as is; else made on first use. */
  code: BundleCode | undefined;
}

const LOADED = Symbol.for('provenant.bundle-script');
type LoadedGlobal = typeof globalThis & { [LOADED]?: Loaded };

interface ModuleClass {
  new (id: string, parent?: NodeJS.Module): NodeJS.Module;
  wrap(source: string): string;
  _nodeModulePaths(dir: string): string[];
}
type Wrapper = (exports: unknown, require: NodeJS.Require, module: NodeJS.Module, filename: string, dirname: string) => void;

function identityOf(file: string): string {
  const stat = statSync(file);
  return `${String(stat.size)}:${String(stat.mtimeMs)}:${String(stat.ino)}`;
}

/** In a worker: the code its creator handed over, when it was made from this same file. */
function handedCode(file: string, identity: string): BundleCode | undefined {
  const list = (process as { moduleLoadList?: unknown }).moduleLoadList;
  // The main thread: nothing was handed, and worker_threads stays unloaded (instrumentation/builtin-loads.ts).
  if (!Array.isArray(list) || !list.includes('NativeModule worker_threads')) return undefined;
  const value: unknown = process.getBuiltinModule('node:worker_threads').getEnvironmentData(BUNDLE_CODE_KEY);
  if (typeof value !== 'object' || value === null) return undefined;
  const code = value as Partial<BundleCode>;
  const usable = code.file === file && code.identity === identity && typeof code.source === 'string' && code.data instanceof Uint8Array;
  return usable ? (code as BundleCode) : undefined;
}

/**
 * Load the bundle at `file` once per thread, as `require(file)` would; returns its exports.
 * `stored`: a code cache kept elsewhere for the file with this identity (bundle-disk-cache.ts),
 * asked only when no code was handed over.
 */
export function loadBundle(file: string, parent: NodeJS.Module, stored?: (identity: string) => Uint8Array | undefined): unknown {
  const require = nodeModule.createRequire(file);
  const existing = require.cache[file];
  if (existing) return existing.exports;
  // Node maps stack traces through the bundle's source map only for code its own loader compiled.
  if (process.sourceMapsEnabled) return require(file);
  const identity = identityOf(file);
  const handed = handedCode(file, identity);
  const Module = nodeModule as unknown as ModuleClass;
  const source = handed?.source ?? readFileSync(file, 'utf8');
  const cachedData = handed ? handed.data : stored?.(identity);
  const script = new vm.Script(Module.wrap(source), {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const module = new Module(file, parent);
  module.filename = file;
  module.paths = Module._nodeModulePaths(path.dirname(file));
  require.cache[file] = module;
  try {
    (script.runInThisContext() as Wrapper).call(module.exports, module.exports, require, module, file, path.dirname(file));
  } catch (error) {
    Reflect.deleteProperty(require.cache, file);
    throw error;
  }
  module.loaded = true;
  (globalThis as LoadedGlobal)[LOADED] = {
    file,
    identity,
    source,
    script,
    code: handed && script.cachedDataRejected !== true ? handed : undefined,
  };
  return module.exports;
}

/** This thread's bundle as `loadBundle` compiled it (undefined when it did not). */
export function compiledBundle(): { readonly identity: string; readonly script: vm.Script } | undefined {
  return (globalThis as LoadedGlobal)[LOADED];
}

/**
 * The code cache to hand a worker that will run provenant: made once per thread, after this
 * thread's own start-up, so it holds the functions a start runs. Undefined when the bundle was
 * not loaded by `loadBundle` (provenant loaded through its API alone).
 */
export function bundleCodeForWorker(): BundleCode | undefined {
  const loaded = (globalThis as LoadedGlobal)[LOADED];
  if (loaded === undefined) return undefined;
  loaded.code ??= { file: loaded.file, identity: loaded.identity, source: loaded.source, data: loaded.script.createCachedData() };
  return loaded.code;
}
