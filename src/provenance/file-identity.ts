/**
 * A file's identity as the kernel sees it: every name of a file (a symlink, `/proc/self/fd/N`,
 * `/proc/self/root/…`, a hard link) is the same file. The real path (symlinks and `..` resolved)
 * is what config globs match; (device, inode) is what the node-local store keys provenance by, so
 * hard links share it and a rename carries it along.
 *
 * Resolution costs an `lstat` and, per folder, a `realpath`, so answers are cached per path (and
 * folders' real paths per folder); the caches are dropped whenever this process renames, unlinks
 * or links something (`forgetAll`). A change made by another process is seen once this process
 * changes names itself or the entry ages out. A file that does not exist yet is not cached (it
 * gets its inode when created), so a new file costs one `lstat` per lookup: the first write of
 * each new file asks several times (the decision, its other names, the store).
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
  private readonly cache = new BoundedCache<string, FileIdentity>(CACHE_LIMIT, undefined, { admitRepeats: true });
  /** Real paths of folders, by absolute path. */
  private readonly folders = new BoundedCache<string, string>(CACHE_LIMIT, undefined, { admitRepeats: true });
  private readonly folderOf = (folder: string): string => {
    let real = this.folders.get(folder);
    if (real === undefined) {
      real = realPath(folder);
      this.folders.set(folder, real);
    }
    return real;
  };

  /**
   * Files that did not exist, for the rest of the synchronous run: one write asks for its new
   * file's identity several times. Should this process create the file meanwhile, its records
   * are still found under the path until the run ends.
   */
  private readonly missing = new Map<string, FileIdentity>();
  private readonly endOfRun = (): void => this.missing.clear();

  /** The identity of an absolute path (it need not exist: a file about to be created has its would-be real path). */
  of(absolute: string): FileIdentity {
    const cached = this.cache.get(absolute) ?? this.missing.get(absolute);
    if (cached !== undefined) return cached;
    const identity = internally(() => resolveIdentity(absolute, this.folderOf));
    // A file that does not exist yet gets its inode when it is created: it is not cached beyond the run.
    if (identity.inode !== undefined) this.cache.set(absolute, identity);
    else {
      if (this.missing.size === 0) queueMicrotask(this.endOfRun);
      this.missing.set(absolute, identity);
    }
    return identity;
  }

  /** Names changed (rename, unlink, link, symlink): every cached answer may be stale. */
  forgetAll(): void {
    this.forgetFiles();
    this.folders.clear();
  }

  /**
   * Only regular files were removed: their inodes (and another name's link count) are stale, but
   * no folder or symlink went, so every folder's real path stands. A removal of many files one by
   * one then costs an `lstat` per file met again, not a walk of every folder above it.
   */
  forgetFiles(): void {
    this.cache.clear();
    this.missing.clear();
  }

  /** A file that did not exist is about to be created (a copy's destination): its name must not stay inode-less. */
  forgetMissing(): void {
    this.missing.clear();
  }
}

interface InodeStat {
  dev: bigint;
  ino: bigint;
  nlink: bigint;
}

/**
 * The identity of an absolute path, resolved now (provenant's own I/O). `folderOf`: the real
 * path of a folder (a cache); without it, resolved too. A normalised path that is not a symlink
 * itself is its real folder plus its name, and its `lstat` is its `stat`: one system call and no
 * thrown error for a file that does not exist yet. A symlink, or a path with `.`/`..` (which the
 * kernel resolves after the links before them), takes the full walk.
 */
export function resolveIdentity(absolute: string, folderOf: (folder: string) => string = realPath): FileIdentity {
  if (isNormal(absolute)) {
    const own = quietly(() => lstatSync(absolute, { throwIfNoEntry: false, bigint: true }));
    if (own === undefined || !own.isSymbolicLink()) {
      const parent = dirname(absolute);
      const path = parent === absolute ? absolute : join(folderOf(parent), basename(absolute));
      return identity(path, own);
    }
  }
  const path = realPath(absolute);
  return identity(
    path,
    quietly(() => statSync(path, { throwIfNoEntry: false, bigint: true })),
  );
}

function identity(path: string, stat: InodeStat | undefined): FileIdentity {
  if (stat === undefined) return { path, inode: undefined, links: 0, key: path };
  const inode = `${stat.dev}:${stat.ino}`;
  return { path, inode, links: Number(stat.nlink), key: `${inode}\u0000${path}` };
}

/** Absolute, without `.`/`..` segments, doubled or trailing slashes: what `path.resolve` returns. */
function isNormal(absolute: string): boolean {
  if (absolute.charCodeAt(0) !== 47 /* '/' */ || absolute.includes('//')) return false;
  if (absolute.length > 1 && absolute.endsWith('/')) return false;
  return !absolute.includes('/./') && !absolute.includes('/../') && !absolute.endsWith('/.') && !absolute.endsWith('/..');
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
