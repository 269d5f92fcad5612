/**
 * Node's module loaders read module sources through public fs: the CJS loader calls
 * `fs.readFileSync(filename, 'utf8')`, the ESM loader a `readFileSync(url)` it took from `fs` when
 * it was first loaded (the patched one under `-r`, the original under `--import`, which then
 * opens and reads through the patched `fs.openSync`/`readSync`). Loading code is not a data flow;
 * I/O in a module's top-level code is, so only the loader's own source read passes through.
 *
 * No module hook does this: a `module.registerHooks` load hook, even a pass-through one, sends every
 * CommonJS module imported from ESM through Node's `loadCJSModule` translator, broken on Node 22
 * and 24 before 24.21 (require(esm) from imported CJS fails "module is not linked", and any async
 * `module.register()` hook makes every import throw). Instead, a read in one of the loaders' shapes
 * asks V8 who called: the loader calls fs from `node:internal/modules/*` itself, or through
 * `node:fs`'s readFileSync. The stack is walked only for those shapes (a URL path, or
 * `(path, 'utf8')` on a file named like a module, the CJS loader's readFileSync), never on the data
 * hot path: `fs.promises.readFile(path, 'utf8')` of a JSON file per request is an app's, since the
 * only loader that reads through the promise API (Node 22's ESM loader) passes a file: URL.
 *
 * A module that is data (JSON) is another matter: `require('./patients.json')` reads the file like
 * readFileSync does, so loading a labelled data file is a read that taints (engine.readDataModule).
 */
import { extname } from 'node:path';

/** What a module-loader read is: code (not a flow) or data (a read only when labelled). */
export type LoaderRead = 'code' | 'data';

/** Extensions the loaders read as code; an extensionless file is a CJS module too (bin scripts). */
const CODE_EXTENSIONS: ReadonlySet<string> = new Set(['', '.js', '.cjs', '.mjs', '.ts', '.cts', '.mts', '.wasm']);

const LOADER_FILES = 'node:internal/modules/';

/**
 * Whether `fs.readFileSync(path, ...rest)`, reached through `wrapper`, is a module loader reading a
 * source. `options` is the second argument.
 */
export function loaderReadFile(wrapper: object, path: unknown, options: unknown): LoaderRead | undefined {
  let file: string;
  if (path instanceof URL) {
    if (path.protocol !== 'file:') return undefined;
    file = path.pathname;
  } else if (typeof path === 'string' && (options === 'utf8' || options === 'utf-8')) {
    file = path;
  } else {
    return undefined;
  }
  const kind = kindOf(file);
  if (kind === undefined || !calledFromLoader(wrapper, false)) return undefined;
  return kind;
}

/**
 * Whether `fs.promises.readFile(path, ...)`, reached through `wrapper`, is Node 22's ESM loader
 * reading a source: it passes a file: URL and no options (Node 24's loaders read synchronously).
 */
export function loaderReadFileAsync(wrapper: object, path: unknown): LoaderRead | undefined {
  if (!(path instanceof URL) || path.protocol !== 'file:') return undefined;
  const kind = kindOf(path.pathname);
  if (kind === undefined || !calledFromLoader(wrapper, false)) return undefined;
  return kind;
}

/** Whether `fs.openSync(path, flags, mode)`, reached through `wrapper`, is the original readFileSync of a loader opening a source. */
export function loaderOpen(wrapper: object, path: unknown, flags: unknown): LoaderRead | undefined {
  if (!(path instanceof URL) || path.protocol !== 'file:' || flags !== 'r') return undefined;
  const kind = kindOf(path.pathname);
  if (kind === undefined || !calledFromLoader(wrapper, true)) return undefined;
  return kind;
}

function kindOf(file: string): LoaderRead | undefined {
  const extension = extname(file);
  if (extension === '.json') return 'data';
  return CODE_EXTENSIONS.has(extension) ? 'code' : undefined;
}

/** The caller of `wrapper` is in Node's module loaders (or, `throughFs`, is node:fs called from them). */
function calledFromLoader(wrapper: object, throughFs: boolean): boolean {
  const limit = Error.stackTraceLimit;
  const prepare = Error.prepareStackTrace;
  Error.stackTraceLimit = throughFs ? 2 : 1;
  Error.prepareStackTrace = (_error, frames) => frames;
  try {
    const holder: { stack?: NodeJS.CallSite[] } = {};
    // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
    Error.captureStackTrace(holder, wrapper as Function);
    const frames = holder.stack ?? [];
    let caller = frames[0]?.getFileName();
    if (throughFs && caller === 'node:fs') caller = frames[1]?.getFileName();
    return caller?.startsWith(LOADER_FILES) === true;
  } finally {
    Error.stackTraceLimit = limit;
    Error.prepareStackTrace = prepare;
  }
}
