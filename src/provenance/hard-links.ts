/**
 * The names of files with several hard links under the folders the config labels, found by
 * walking those folders. A link made outside instrumented processes (`ln secret/a public/b`
 * before start) is then known by its labelled name as soon as any name of it is met: reading
 * `public/b` carries `secret/a`'s labels, and a write to it is checked against them.
 *
 * The walk is made once (per set of folders: a config reload that changes them walks again),
 * only when a file whose inode has more links than known names is first met, and it stops after
 * `limit` entries so a label on a huge tree cannot stall the process (`complete` says so).
 */
import { lstatSync, opendirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { internally } from '../support/reentrancy.js';

const DEFAULT_LIMIT = 200_000;

export class HardLinkIndex {
  private folders: readonly string[] | undefined;
  private names = new Map<string, string[]>();
  /** False when the last walk stopped at the limit: names beyond it are unknown. */
  complete = true;

  constructor(private readonly limit = DEFAULT_LIMIT) {}

  /** Real paths of the multiply-linked files of inode `<dev>:<ino>` under `folders`. */
  namesOf(inode: string, folders: readonly string[]): readonly string[] {
    if (folders !== this.folders) {
      this.folders = folders;
      internally(() => this.walk(folders));
    }
    return this.names.get(inode) ?? [];
  }

  private walk(folders: readonly string[]): void {
    this.names = new Map();
    let budget = this.limit;
    const note = (path: string): void => {
      budget--;
      const stat = lstatSync(path, { bigint: true, throwIfNoEntry: false });
      if (stat === undefined || !stat.isFile() || stat.nlink < 2n) return;
      const inode = `${stat.dev}:${stat.ino}`;
      const known = this.names.get(inode);
      if (known === undefined) this.names.set(inode, [path]);
      else if (!known.includes(path)) known.push(path);
    };
    for (const folder of folders) {
      let root: string;
      try {
        root = realpathSync.native(folder);
        const stat = lstatSync(root);
        if (!stat.isDirectory()) {
          note(root);
          continue;
        }
        const dir = opendirSync(root, { recursive: true });
        try {
          for (let entry = dir.readSync(); entry !== null && budget > 0; entry = dir.readSync()) {
            if (entry.isFile()) note(join(entry.parentPath, entry.name));
          }
        } finally {
          dir.closeSync();
        }
      } catch {
        // A folder that does not exist (yet) or cannot be read holds no names we can know.
      }
    }
    this.complete = budget > 0;
  }
}
