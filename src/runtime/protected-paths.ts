/**
 * What the app may not write (rule `self-protection`): the config file, key files and the state
 * dir, with symlinks resolved so a link to them is seen as them.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ProvenantConfig } from '../config/types.js';
import { realPath } from '../provenance/file-identity.js';
import type { ProtectedPaths } from '../instrumentation/instrumentation.js';
import { internally } from '../support/reentrancy.js';

export function protectedPaths(config: ProvenantConfig, env: NodeJS.ProcessEnv, stateDir: string): ProtectedPaths {
  return internally(() => {
    const files: string[] = [];
    if (config.file !== undefined) files.push(config.file);
    // Each key variable may hold the key itself (PEM text, a secret) or name a file holding it.
    for (const name of ['PROVENANT_JOURNAL_KEY', 'PROVENANT_KEY']) {
      const value = env[name];
      if (value !== undefined && !value.includes('\n') && isFile(value)) files.push(value);
    }
    // As written and as resolved: a path through a symlinked folder names the same file.
    const both = (path: string): string[] => [resolve(path), realPath(resolve(path))];
    return { files: [...new Set(files.flatMap(both))], dirs: [...new Set(both(stateDir))] };
  });
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
