/**
 * dist/register.js, the preload the package exports (scripts/bundle.mjs builds it from this file):
 * loads the one bundle, dist/provenant.js, with the compiled code a creating thread handed over
 * (support/bundle-code.ts), else with the one a previous process left on disk (bundle-disk-cache.ts),
 * and starts provenant from it. src/register.ts is the same entry for
 * the unbundled modules.
 */
import path from 'node:path';
import { resolveStateDir } from './config/state-dir.js';
import { compiledBundle, loadBundle } from './support/bundle-code.js';
import { BundleDiskCache } from './support/bundle-disk-cache.js';

const bundle = path.join(__dirname, 'provenant.js');
const diskCache = new BundleDiskCache(bundle, resolveStateDir(process.env));
(loadBundle(bundle, module, (identity) => diskCache.read(identity)) as { __provenantPreload(): void }).__provenantPreload();
diskCache.saveAfterStart(compiledBundle());
