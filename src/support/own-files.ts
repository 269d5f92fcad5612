/**
 * Where provenant's own files are, from any module: the preload runs one bundled file at dist/
 * (scripts/bundle.mjs), while the same modules unbundled sit in dist/<folder>/ (and in src/<folder>/
 * under the tests), so a module's own __dirname does not say where its siblings are. Path
 * arithmetic only: the nearest folder named dist (or src) above this module.
 */
import { basename, dirname, join, sep } from 'node:path';

function ownDir(): string {
  for (let dir = __dirname; dirname(dir) !== dir; dir = dirname(dir)) {
    const name = basename(dir);
    if (name === 'dist' || name === 'src') return dir;
  }
  return __dirname;
}

/** provenant's built output (dist/; src/ under the tests), with a trailing separator. */
export const OWN_DIR = ownDir() + sep;

/** A file of provenant's own output, e.g. `ownFile('export', 'export-worker.js')`. */
export function ownFile(...parts: string[]): string {
  return join(OWN_DIR, ...parts);
}

/** provenant's package.json. */
export const OWN_PACKAGE_JSON = join(dirname(OWN_DIR), 'package.json');
