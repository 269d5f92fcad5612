/**
 * The monitor protects itself: the app may not write, replace, move or remove provenant's config
 * file, its key files or anything under its state dir, whatever the policy says (rule
 * `self-protection`). Otherwise an app could write `allow: {}` into its own policy and reload it,
 * or rewrite its journal. A path is compared as written, then through symlinks (the real path of
 * the file, or of its folder when it does not exist yet), and an existing file by inode too, so a
 * hard link to the config is caught. Only path-based writes are checked; an fd was checked when
 * it was opened.
 */
import { resolveIdentity, type FileIdentity } from '../../provenance/file-identity.js';
import { internally } from '../../support/reentrancy.js';
import type { ProtectedPaths } from '../instrumentation.js';

export class SelfProtection {
  private readonly files: ReadonlySet<string>;
  private readonly dirs: readonly string[];
  /** `<dev>:<ino>` of each protected file that exists, to the protected path: a hard link is the same file. */
  private readonly inodes: ReadonlyMap<string, string>;

  constructor(paths: ProtectedPaths) {
    this.files = new Set(paths.files);
    this.dirs = paths.dirs;
    this.inodes = new Map(
      internally(() =>
        paths.files.flatMap((path) => {
          const { inode } = resolveIdentity(path);
          return inode === undefined ? [] : [[inode, path] as const];
        }),
      ),
    );
  }

  /** True for paths under the state dir: provenant's own files, never an app flow. */
  isOwn(path: string): boolean {
    return this.dirs.some((dir) => isWithin(path, dir));
  }

  /** True when removing or moving `path` would take a protected path with it. */
  contains(path: string): boolean {
    return [...this.files, ...this.dirs].some((protectedPath) => isWithin(protectedPath, path));
  }

  /**
   * The protected path that a write to a file would reach, if any: by its real path (symlinks
   * already resolved in `file`), or by its inode (a hard link). The identity is the one the engine
   * resolved (and cached) for the flow itself, so this costs no system call of its own.
   */
  reaches(file: FileIdentity): string | undefined {
    return this.match(file.path) ?? (file.inode === undefined ? undefined : this.inodes.get(file.inode));
  }

  private match(path: string): string | undefined {
    if (this.files.has(path)) return path;
    return this.dirs.find((dir) => isWithin(path, dir));
  }
}

function isWithin(path: string, dir: string): boolean {
  return path === dir || (path.startsWith(dir) && path.charCodeAt(dir.length) === 47); /* '/' */
}
