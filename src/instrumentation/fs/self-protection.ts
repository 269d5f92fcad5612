/**
 * The monitor protects itself: the app may not write, replace, move or remove provenant's config
 * file, its key files or anything under its state dir, whatever the policy says (rule
 * `self-protection`). Otherwise an app could write `allow: {}` into its own policy and reload it,
 * or rewrite its journal. A path is compared as written, then through symlinks (the real path of
 * the file, or of its folder when it does not exist yet), and an existing file by inode too, so a
 * hard link to the config is caught. Only path-based writes pay for this; an fd was checked when
 * it was opened.
 */
import { lstatSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { internally } from '../../support/reentrancy.js';
import type { ProtectedPaths } from '../instrumentation.js';

interface Inode {
  readonly dev: number;
  readonly ino: number;
  readonly path: string;
}

export class SelfProtection {
  private readonly files: ReadonlySet<string>;
  private readonly dirs: readonly string[];
  private readonly inodes: readonly Inode[];

  constructor(paths: ProtectedPaths) {
    this.files = new Set(paths.files);
    this.dirs = paths.dirs;
    this.inodes = internally(() =>
      paths.files.flatMap((path) => {
        const stat = statOf(path);
        return stat ? [{ dev: stat.dev, ino: stat.ino, path }] : [];
      }),
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

  /** The protected path that a write to `path` (absolute, normalised) would reach, if any. */
  reaches(path: string): string | undefined {
    const direct = this.match(path);
    if (direct !== undefined) return direct;
    return internally(() => {
      const stat = statOf(path);
      const linked = stat && this.inodes.find((inode) => inode.ino === stat.ino && inode.dev === stat.dev);
      if (linked) return linked.path;
      const real = realPathOf(path);
      return real === path ? undefined : this.match(real);
    });
  }

  private match(path: string): string | undefined {
    if (this.files.has(path)) return path;
    return this.dirs.find((dir) => isWithin(path, dir));
  }
}

function isWithin(path: string, dir: string): boolean {
  return path === dir || (path.startsWith(dir) && path.charCodeAt(dir.length) === 47); /* '/' */
}

/** Symlinks followed as the kernel follows them on open, at most this many. */
const MAX_LINKS = 40;

/**
 * Symlinks resolved; for a file not there yet, its folder's real path plus its name, and for a
 * dangling symlink the path it would create.
 */
export function realPathOf(path: string, depth = 0): string {
  try {
    return realpathSync.native(path);
  } catch {
    try {
      if (depth < MAX_LINKS && lstatSync(path).isSymbolicLink()) return realPathOf(resolve(dirname(path), readlinkSync(path)), depth + 1);
    } catch {
      // Not there (or not reachable): resolve its folder instead.
    }
    try {
      return join(realpathSync.native(dirname(path)), basename(path));
    } catch {
      return path;
    }
  }
}

/** The file at `path` (symlinks followed), or undefined for any path that names none (ENOENT, ENOTDIR, ...). */
function statOf(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
