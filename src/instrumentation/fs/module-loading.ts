/**
 * Node's module loaders read app modules through public fs (CJS: fs.readFileSync; ESM: a
 * readFileSync that opens and reads through fs.openSync/readSync). Loading code is not a data
 * flow, so every fs call made while a module's source is being loaded passes through. A
 * `module.registerHooks` load hook brackets exactly that: the source read, not the module's
 * evaluation, so I/O in a module's top-level code is still recorded.
 */
import * as nodeModule from 'node:module';
import { diag } from '@opentelemetry/api';
import type { FsFlows } from './flows.js';

/** Returns what removes the hook, or undefined when this Node lacks `module.registerHooks`. */
export function passModuleLoadingThrough(flows: FsFlows): (() => void) | undefined {
  if (typeof nodeModule.registerHooks !== 'function') {
    diag.warn('provenant: module.registerHooks is not available; module loading may be recorded as file reads');
    return undefined;
  }
  const hooks = nodeModule.registerHooks({
    load(url, context, nextLoad) {
      return flows.nested.run(() => nextLoad(url, context));
    },
  });
  return () => hooks.deregister();
}
