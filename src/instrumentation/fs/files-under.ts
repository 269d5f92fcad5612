/**
 * The files under a folder, for a transfer or a removal that names the folder. Not
 * `readdirSync(…, { recursive: true })`: on Node 24 it descends into symlinked folders, so a link
 * to an ancestor (`up -> ../..`, as in node-tar's tests) made it walk until ELOOP, and two such
 * links made the walk exponential (gigabytes of paths for a three-entry folder); a removal also
 * listed, and retired the provenance of, files outside the removed tree.
 */
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Files under `root` (a folder), symlinks included as entries. With `followLinks` (a transfer: the
 * new name reaches what the links reach), a link to a folder is walked too, each real folder once,
 * so every file reachable is decided under the first name met and a link cycle ends; without it
 * (a removal, which removes links, not what they name), links are neither listed nor followed.
 */
export function filesUnder(root: string, followLinks: boolean): string[] {
  const files: string[] = [];
  const walked = new Set<string>();
  const folders = [root];
  for (let folder = folders.pop(); folder !== undefined; folder = folders.pop()) {
    if (followLinks) {
      const real = realpathSync.native(folder);
      if (walked.has(real)) continue;
      walked.add(real);
    }
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) folders.push(path);
      else if (!entry.isSymbolicLink()) files.push(path);
      else if (followLinks) {
        if (isFolder(path)) folders.push(path);
        else files.push(path);
      }
    }
  }
  return files;
}

/** Whether a link names a folder; a dangling or looping link (ENOENT, ELOOP) names none. */
function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
