/**
 * A file's identity as the kernel sees it: every name of a file (a symlink, `/proc/self/fd/N`,
 * `/proc/self/root/…`, a hard link) is the same file. The real path (symlinks and `..` resolved)
 * is what config globs match; (device, inode) is what the node-local store keys provenance by, so
 * hard links share it and a rename carries it along.
 *
 * Resolution costs a `realpath` and a `stat`, so answers are cached per path; the cache is
 * dropped whenever this process renames, unlinks or links something (`forgetAll`). A change made
 * by another process is seen once this process changes names itself or the entry ages out.
 */
import { lstatSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { BoundedCache } from '../support/bounded-cache.js';
import { internally } from '../support/reentrancy.js';

export interface FileIdentity {
  /** The real path: symlinks in every component resolved, as the kernel would open it. */
  readonly path: string;
  /** `<dev>:<ino>` of the file, when it exists. */
  readonly inode: string | undefined;
  /** Hard links to the inode (1 for an ordinary file, 0 when it does not exist). */
  readonly links: number;
  /** One string per (path, inode): the store caches its answers under it. */
  readonly key: string;
}

const CACHE_LIMIT = 4096;
/** Linux's own bound on symlinks followed in one lookup (ELOOP beyond). */
const MAX_SYMLINKS = 40;

export class FileIdentities {
  private readonly cache = new BoundedCache<string, FileIdentity>(CACHE_LIMIT);

  /** The identity of an absolute path (it need not exist: a file about to be created has its would-be real path). */
  of(absolute: string): FileIdentity {
    const cached = this.cache.get(absolute);
    if (cached !== undefined) return cached;
    const identity = internally(() => resolveIdentity(absolute));
    // A file that does not exist yet gets its inode when it is created: only existing files are cached.
    if (identity.inode !== undefined) this.cache.set(absolute, identity);
    return identity;
  }

  /** Names changed (rename, unlink, link, symlink): every cached answer may be stale. */
  forgetAll(): void {
    this.cache.clear();
  }
}

/** The identity of an absolute path, resolved now (uncached; provenant's own I/O). */
export function resolveIdentity(absolute: string): FileIdentity {
  const path = realPath(absolute);
  const stat = quietly(() => statSync(path, { throwIfNoEntry: false, bigint: true }));
  if (stat === undefined) return { path, inode: undefined, links: 0, key: path };
  const inode = `${stat.dev}:${stat.ino}`;
  return { path, inode, links: Number(stat.nlink), key: `${inode}\u0000${path}` };
}

/**
 * `realpath` when the file exists; otherwise the real path of where it would be created: a
 * dangling symlink's target (the kernel creates that), in its parent's real directory.
 */
export function realPath(absolute: string): string {
  let candidate = absolute;
  for (let hops = 0; hops <= MAX_SYMLINKS; hops++) {
    try {
      return realpathSync.native(candidate);
    } catch {
      // Not there (yet): fall through to its parent.
    }
    const link = quietly(() => lstatSync(candidate, { throwIfNoEntry: false }));
    if (link?.isSymbolicLink() !== true) break;
    candidate = resolve(dirname(candidate), readlinkSync(candidate));
  }
  const parent = dirname(candidate);
  if (parent === candidate) return candidate;
  return join(realPath(parent), basename(candidate));
}

/** `fn()`, or undefined when it throws (ENOTDIR, EACCES, ELOOP…: the path names no file we can know). */
function quietly<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}
