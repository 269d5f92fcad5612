/** Small apps the foundation tests run under the preload, written into a temp dir per test. */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/spawn.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * A temp app folder where `require('provenant')` and `-r provenant/register` resolve to this
 * repository through node_modules, as they would for a user who installed the package.
 */
export function appDir(files: Record<string, string>): string {
  const dir = tempDir('provenant-app-');
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  symlinkSync(repoRoot, join(dir, 'node_modules', 'provenant'), 'dir');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** CJS app: records one application event (a span) then does what `ending` says. */
export function cjsApp(ending: string): string {
  return `const provenant = require('provenant');
provenant.record({ action: 'app.started', attributes: { style: 'cjs' } });
${ending}
`;
}
