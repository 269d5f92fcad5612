/**
 * The entry of dist/provenant.js, the one file the preload and the API load (scripts/bundle.mjs):
 * about 230 modules resolved, read and wrapped one by one were most of a process's start-up. The
 * API and the preload must share it: two copies would be two runtimes' worth of module state.
 */
export * from './index.js';
/** For dist/register.js only; not part of the API (absent from its types). */
export { preload as __provenantPreload } from './preload.js';
