import { mkdtempSync, realpathSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const created = new Set<string>();

/**
 * A fresh empty directory under the OS temp dir, removed by cleanupTempDirs(). The path is
 * resolved through symlinks (e.g. macOS /var -> /private/var) so it matches the absolute paths
 * an instrumented process sees.
 */
export function tempDir(prefix = 'provenant-test-'): string {
  const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), prefix)));
  created.add(dir);
  return dir;
}

/** Removes every directory made by tempDir(); call it from afterAll/afterEach. */
export async function cleanupTempDirs(): Promise<void> {
  const dirs = [...created];
  created.clear();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
}
