/**
 * dist/register.js, the preload the package exports (scripts/bundle.mjs builds it from this file):
 * loads the one bundle, dist/provenant.js, with the compiled code a creating thread handed over
 * (support/bundle-code.ts), and starts provenant from it. src/register.ts is the same entry for
 * the unbundled modules.
 */
import path from 'node:path';
import { loadBundle } from './support/bundle-code.js';

(loadBundle(path.join(__dirname, 'provenant.js'), module) as { __provenantPreload(): void }).__provenantPreload();
