/**
 * Node's module loaders read app modules through public fs (CJS: fs.readFileSync; ESM: a
 * readFileSync that opens and reads through fs.openSync/readSync). Loading code is not a data
 * flow, so every fs call made while a module's source is being loaded passes through. A
 * `module.registerHooks` load hook brackets exactly that: the source read, not the module's
 * evaluation, so I/O in a module's top-level code is still recorded.
 *
 * A module that is data (JSON, or text a loader serves) is another matter: `require('./patients.json')`
 * reads the file like readFileSync does, so loading a labelled data file is a read that taints.
 */
import * as nodeModule from 'node:module';
import { diag } from '@opentelemetry/api';
import type { FsFlows } from './flows.js';

/** Formats of code (not flows); anything else a load hook returns (`json`, a loader's own) is data. */
const CODE_FORMATS: ReadonlySet<string> = new Set([
  'builtin',
  'commonjs',
  'commonjs-typescript',
  'module',
  'module-typescript',
  'wasm',
  'addon',
]);

function sourceBytes(source: unknown): number | undefined {
  if (typeof source === 'string') return Buffer.byteLength(source);
  if (ArrayBuffer.isView(source)) return source.byteLength;
  return undefined;
}

/** Returns what removes the hook, or undefined when this Node lacks `module.registerHooks`. */
export function passModuleLoadingThrough(flows: FsFlows): (() => void) | undefined {
  if (typeof nodeModule.registerHooks !== 'function') {
    diag.warn('provenant: module.registerHooks is not available; module loading may be recorded as file reads');
    return undefined;
  }
  const hooks = nodeModule.registerHooks({
    load(url, context, nextLoad) {
      const loaded = flows.nested.run(() => nextLoad(url, context));
      if (typeof loaded.format === 'string' && !CODE_FORMATS.has(loaded.format) && url.startsWith('file:'))
        flows.dataModuleLoaded(url, sourceBytes(loaded.source));
      return loaded;
    },
  });
  return () => hooks.deregister();
}
