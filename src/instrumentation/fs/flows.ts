/**
 * What every fs wrapper shares: turning path arguments and fds into file resources (cached, so
 * the hot path does no path work), the fd and FileHandle tables, and the calls into the engine.
 * Knows nothing of policy, spans or the store: it asks the engine and surfaces what it says.
 *
 * Over 250 lines because it is the one place a path, fd or handle becomes a file target: the path
 * caches, the fd and handle tables and the self-protection checks share that resolution, and
 * every wrapper module (sync, callback, promise, streams, dumps) goes through it.
 */
import { fstatSync, lstatSync, readlinkSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { diag } from '@opentelemetry/api';
import type { FileIdentity, FlowEngine, FlowOptions } from '../../engine/flow-engine.js';
import { BoundedCache } from '../../support/bounded-cache.js';
import { internally, isInternal, ReentrancyGuard } from '../../support/reentrancy.js';
import type { SelfProtection } from './self-protection.js';
import { isSdkIdentityRead } from './sdk-reads.js';
import { filesUnder } from './files-under.js';
import { StdioGate } from '../stdio-gate.js';
import type { ProvenanceDeniedError } from '../../errors.js';
import type { Resource } from '../../provenance/resource.js';

/** A file the app reads or writes, resolved once and reused for every flow. */
export interface FileTarget {
  /** The real path (symlinks resolved): every name of a file is the same target. */
  readonly path: string;
  readonly resource: Resource;
  /** `file.path` attribute; one object per file so a repeated flow allocates nothing. */
  readonly options: FlowOptions;
  /** Under provenant's state dir: reads are not flows, writes are denied (self-protection). */
  readonly own?: true;
}

const PATH_CACHE_LIMIT = 8192;

/** What an unlink or rm is about to remove (`filesAt`), for `retire` once it is gone. */
export interface Removal {
  readonly files: readonly FileIdentity[];
  /** The path is a regular file (or nothing): no folder or symlink goes, so no other name changes meaning. */
  readonly onlyFiles: boolean;
}

export class FsFlows {
  /**
   * Active inside a wrapped call or a module load: the fs calls Node makes underneath
   * (readFileSync → openSync/readSync/closeSync, the loaders' reads) are not flows of their own.
   */
  readonly nested = new ReentrancyGuard();

  /** True when an fs call is the app's own flow: not nested in a wrapped call, not provenant's own I/O. */
  get recording(): boolean {
    return !this.nested.active && !isInternal();
  }
  /** Targets of fds opened through the patched APIs (fd-level writes to any other fd: `authorizeFd`). */
  readonly fds: (FileTarget | undefined)[] = [];
  /** Fds opened through the patched APIs that are no flow of their own (Node's inside a wrapped call, provenant's). */
  private readonly accountedFds = new Set<number>();
  /** Other fds met by `fdTarget`: the file (device, inode) each was last, and its target (undefined: not a file). */
  private readonly linkedFds = new Map<number, { dev: number; ino: number; target: FileTarget | undefined }>();
  /** FileHandles returned by the patched `fs.promises.open`. */
  readonly handles = new WeakMap<object, FileTarget>();
  private readonly absolutePaths = new BoundedCache<string, FileTarget>(PATH_CACHE_LIMIT, undefined, { admitRepeats: true });
  private readonly relativePaths = new BoundedCache<string, FileTarget>(PATH_CACHE_LIMIT, undefined, { admitRepeats: true });
  private relativeBase = '';
  /** Copies already checked by an enclosing cp(), keyed `from\0to`, so Node's per-file copyFile calls are not checked twice. */
  private readonly checkedCopies = new Set<string>();

  constructor(
    private readonly engine: FlowEngine,
    private readonly protection: SelfProtection,
    private readonly stdio: StdioGate,
    /** The journal wants content digests: pass the bytes along when they are at hand. */
    private readonly wantsContent: boolean,
  ) {}

  /** The file a path argument (string, Buffer, file: URL), fd or FileHandle names, or undefined when it is not a file flow. */
  targetOf(path: unknown): FileTarget | undefined {
    if (typeof path === 'string') {
      if (isSdkIdentityRead(path)) return undefined;
      const cache = path.charCodeAt(0) === 47 /* '/' */ ? this.absolutePaths : this.relativeCache();
      const cached = cache.get(path);
      if (cached !== undefined) return cached;
      const target = this.targetAt(resolve(path));
      cache.set(path, target);
      return target;
    }
    if (typeof path === 'number') return this.fds[path];
    if (typeof path !== 'object' || path === null) return undefined;
    return this.handles.get(path) ?? this.targetOfObject(path);
  }

  read(target: FileTarget, bytes: number | undefined, content?: unknown): void {
    if (target.own) return;
    this.engine.read(target.resource, bytes, this.optionsFor(target, content));
  }

  /** Checks a write before any byte moves; the error to surface when it is denied. */
  authorize(target: FileTarget, bytes: number | undefined, content?: unknown): ProvenanceDeniedError | undefined {
    if (target.own) return this.selfProtectionDenial(target.path, target.path);
    try {
      const decision = this.engine.authorizeWrite(target.resource, bytes, this.optionsFor(target, content));
      return decision.kind === 'deny' ? this.engine.deniedError(decision, target.resource) : undefined;
    } catch (error) {
      diag.warn(`provenant: checking a write to ${target.path} failed; the write proceeds`, error);
      return undefined;
    }
  }

  /**
   * A check (`authorize`, `authorizePath`, `authorizeFd`) for an asynchronous API: the provenance
   * it commits does not wait for the disk on this thread. The API then calls its original through
   * `whenDurable`.
   */
  deferred<T>(check: () => T): T {
    return this.engine.deferDurability(check);
  }

  /**
   * An asynchronous API's decision taken after its call returns (engine `decideLater`): the call
   * itself only queues it. `decide` runs inside `deferred`; `start(outcome)` calls the original.
   */
  later<T>(decide: () => T, start: (outcome: T) => unknown): Promise<unknown> {
    return this.engine.decideLater(() => this.deferred(decide), start);
  }

  /** Settles once the provenance decided so far is on disk (undefined: nothing to wait for); an API moves no byte before. */
  whenDurable(): Promise<void> | undefined {
    return this.engine.durable();
  }

  /** The provenance decided so far on disk now, on this thread (throws when it cannot be). */
  durableNow(): void {
    this.engine.durableNow();
  }

  /**
   * An fd-level write (`write`, `writeSync`, `writev`…). An fd opened through the patched API is
   * its file; fd 1 and 2 are stdout and stderr (one decision with process.stdout/stderr); any
   * other fd (inherited, opened natively or by another thread) is what `/proc/self/fd` says it
   * is: a file is decided as that file, anything else (a pipe, a socket) is an unlabelled
   * destination `process://<node>/<pid>/fd/<n>`, so labelled data cannot leave through it in
   * enforce mode. Without /proc every such fd is that unlabelled destination (fail closed).
   */
  authorizeFd(fd: unknown, bytes: number | undefined, content?: unknown): ProvenanceDeniedError | undefined {
    if (typeof fd !== 'number') return undefined;
    const target = this.fds[fd];
    if (target !== undefined) return this.authorize(target, bytes, content);
    if (this.accountedFds.has(fd)) return undefined;
    const stream = StdioGate.streamOf(fd);
    if (stream !== undefined)
      return this.stdio.passing.active || this.stdio.deciding.active ? undefined : this.stdio.authorize(stream, bytes);
    const file = this.fdTarget(fd);
    if (file !== undefined) return this.authorize(file, bytes, content);
    const resource = this.engine.resources.descriptor(fd);
    try {
      const decision = this.engine.authorizeWrite(resource, bytes, { attributes: { 'provenant.fd': fd } });
      return decision.kind === 'deny' ? this.engine.deniedError(decision, resource) : undefined;
    } catch (error) {
      diag.warn(`provenant: checking a write to fd ${fd} failed; the write proceeds`, error);
      return undefined;
    }
  }

  /**
   * The file an fd is, for reads and handles: opened through the patched API, else (unless Node
   * or provenant opened it inside a wrapped call) what /proc/self/fd says — an fd inherited or
   * handed over by another thread.
   */
  fdTarget(fd: unknown): FileTarget | undefined {
    if (typeof fd !== 'number') return undefined;
    const target = this.fds[fd];
    if (target !== undefined || this.accountedFds.has(fd)) return target;
    // The fd may have been closed and reused behind our back: an fstat (~1 µs) tells whether it is
    // still the same file; /proc is read (~10 µs) only when it is not.
    const stat = statOfFd(fd);
    if (stat === undefined) return undefined;
    const known = this.linkedFds.get(fd);
    if (known !== undefined && known.dev === stat.dev && known.ino === stat.ino) return known.target;
    const link = linkOfFd(fd);
    const resolved = link !== undefined && link.startsWith('/') && !link.endsWith(' (deleted)') ? this.targetAt(link) : undefined;
    this.linkedFds.set(fd, { dev: stat.dev, ino: stat.ino, target: resolved });
    return resolved;
  }

  /** `authorize` for a write named by path: it must not reach provenant's own files through a link. */
  authorizePath(target: FileTarget, bytes: number | undefined, content?: unknown): ProvenanceDeniedError | undefined {
    const reached = this.protection.reaches(this.engine.identityOf(target.path));
    if (reached !== undefined) return this.selfProtectionDenial(target.path, reached);
    return this.authorize(target, bytes, content);
  }

  /** unlink / rm / rename-away of a path that is, or holds, provenant's own files. */
  guardRemoval(path: unknown): ProvenanceDeniedError | undefined {
    const target = this.targetOf(path);
    if (target === undefined) return undefined;
    const reached = this.protection.contains(target.path) ? target.path : this.protection.reaches(this.engine.identityOf(target.path));
    return reached === undefined ? undefined : this.selfProtectionDenial(target.path, reached);
  }

  /**
   * copyFile / cp / rename / link / symlink: provenance goes from file to file. A directory is
   * checked file by file before anything moves. Returns the error of the first denied file.
   */
  transfer(op: 'copy' | 'move' | 'link' | 'symlink', from: unknown, to: unknown): ProvenanceDeniedError | undefined {
    const source = this.targetOf(from);
    const destination = this.targetOf(to);
    if (source === undefined || destination === undefined) return undefined;
    const reached = this.protection.reaches(this.engine.identityOf(destination.path));
    if (reached !== undefined) return this.selfProtectionDenial(destination.path, reached);
    if (op === 'move') {
      const removed = this.guardRemoval(source.path);
      if (removed !== undefined) return removed;
    }
    try {
      for (const [file, copy] of this.filePairs(source.path, destination.path)) {
        if (op === 'copy' && this.checkedCopies.delete(`${file}\0${copy}`)) continue;
        const denied = this.engine.transfer(op, file, copy);
        if (denied !== undefined) return denied;
      }
    } catch (error) {
      diag.warn(`provenant: recording ${op} ${source.path} → ${destination.path} failed; it proceeds`, error);
    }
    return undefined;
  }

  /**
   * cp() copies a tree through Node's own per-file copyFile calls: mark them as checked, and
   * return what clears the marks once cp() has finished.
   */
  markCopiesChecked(from: unknown, to: unknown): () => void {
    const source = this.targetOf(from);
    const destination = this.targetOf(to);
    if (source === undefined || destination === undefined) return noop;
    const keys = this.filePairs(source.path, destination.path).map(([file, copy]) => `${file}\0${copy}`);
    for (const key of keys) this.checkedCopies.add(key);
    return () => {
      for (const key of keys) this.checkedCopies.delete(key);
    };
  }

  /**
   * Files at or under a path about to be removed, identified before they go (their provenance is
   * retired once they are gone). Removing a symlink removes the link, not the file it names: that
   * file keeps its provenance; a path that does not exist has no files.
   */
  filesAt(path: unknown): Removal {
    const target = this.targetOf(path);
    if (target === undefined) return { files: [], onlyFiles: false };
    const written = this.writtenPath(path) ?? target.path;
    let files: string[];
    let onlyFiles = false;
    try {
      const stat = internally(() => lstatSync(written, { throwIfNoEntry: false }));
      onlyFiles = stat === undefined || stat.isFile();
      if (stat === undefined || stat.isSymbolicLink()) files = [];
      else files = stat.isDirectory() ? internally(() => filesUnder(written, false)) : [written];
    } catch {
      files = [target.path];
    }
    return { files: internally(() => this.engine.identitiesOf(files)), onlyFiles };
  }

  retire(removal: Removal): void {
    this.engine.retire(removal.files);
    // A regular file's removal changes no folder's or link's meaning: the path caches stand.
    if (removal.onlyFiles) this.engine.filesRemoved();
    else this.namesChanged();
  }

  /**
   * symlink(target, path): a new name for the file `target` names (relative to the link's
   * folder), decided like a copy to the new name. Undefined target or path: not a file flow.
   */
  symlink(target: unknown, path: unknown): ProvenanceDeniedError | undefined {
    const link = this.targetOf(path);
    // A relative target is relative to the link's folder, not the working directory; a URL is absolute.
    const written = typeof target === 'string' || ArrayBuffer.isView(target) ? pathText(target) : this.writtenPath(target);
    if (link === undefined || written === undefined) return undefined;
    const linkPath = this.writtenPath(path) ?? link.path;
    return this.transfer('symlink', resolve(dirname(linkPath), written), linkPath);
  }

  /**
   * cp's options with its `filter` run as app code: the fs calls the app makes in it are flows
   * like any other, although cp runs nested (its own per-file calls are not). `args` is changed
   * in place; the options object is copied, never modified.
   */
  releaseCpFilter(args: IArguments): void {
    for (let i = 2; i < args.length; i++) {
      const options = args[i] as { filter?: unknown } | null;
      if (typeof options !== 'object' || options === null || typeof options.filter !== 'function') continue;
      const filter = options.filter as (source: string, destination: string) => unknown;
      const nested = this.nested;
      args[i] = { ...options, filter: (source: string, destination: string): unknown => nested.outside(() => filter(source, destination)) };
    }
  }

  /** A whole-process dump is about to be written to `path` (dumps.ts). */
  processDump(path: string, kind: string): ProvenanceDeniedError | undefined {
    const target = this.targetOf(path);
    return target === undefined ? undefined : this.engine.authorizeProcessDump(target.path, kind);
  }

  /** A whole-process dump is about to be handed to JS (dumps.ts): the current context reads all of it. */
  processDumpRead(kind: string): void {
    this.engine.readProcessDump(kind);
  }

  /** Arming a dump Node writes natively, with no chance to decide it (armed-dumps.ts): refused in enforce mode. */
  nativeDumpRefused(what: string): ProvenanceDeniedError {
    return this.engine.refuse(this.engine.resources.process(process.pid), {
      kind: 'deny',
      rule: 'native-dump',
      reason: `${what} would make Node write a dump of the process natively, where no write can be decided; it is refused in enforce mode`,
    });
  }

  /** A module loader loaded a module that is data (module-loading.ts). */
  dataModuleLoaded(target: FileTarget, bytes: number | undefined): void {
    if (!target.own) this.engine.readDataModule(target.path, bytes);
  }

  /** A rename, link, symlink or removal by this process changed which file a name means. */
  namesChanged(): void {
    this.absolutePaths.clear();
    this.relativePaths.clear();
    this.engine.namesChanged();
  }

  /** Remember which file an fd opened through a patched API belongs to (clears a stale entry for a reused fd). */
  opened(fd: unknown, target: FileTarget | undefined): void {
    if (typeof fd !== 'number') return;
    if (target !== undefined || this.fds[fd] !== undefined) this.fds[fd] = target;
    if (target === undefined) this.accountedFds.add(fd);
    else this.accountedFds.delete(fd);
  }

  closed(fd: unknown): void {
    if (typeof fd !== 'number') return;
    if (this.fds[fd] !== undefined) this.fds[fd] = undefined;
    this.accountedFds.delete(fd);
    this.linkedFds.delete(fd);
  }

  private optionsFor(target: FileTarget, content: unknown): FlowOptions {
    if (!this.wantsContent || (typeof content !== 'string' && !ArrayBuffer.isView(content))) return target.options;
    const bytes = typeof content === 'string' ? content : new Uint8Array(content.buffer, content.byteOffset, content.byteLength);
    return { ...target.options, content: bytes };
  }

  private relativeCache(): BoundedCache<string, FileTarget> {
    const cwd = process.cwd();
    if (cwd !== this.relativeBase) {
      this.relativePaths.clear();
      this.relativeBase = cwd;
    }
    return this.relativePaths;
  }

  private targetOfObject(path: object): FileTarget | undefined {
    const absolute = this.writtenPath(path);
    return absolute === undefined ? undefined : this.targetAt(absolute);
  }

  /** The absolute path as the app wrote it (symlinks not resolved), for a string, Buffer or file: URL argument. */
  private writtenPath(path: unknown): string | undefined {
    try {
      if (typeof path === 'string' || ArrayBuffer.isView(path)) return resolve(pathText(path));
      const url = path as Partial<URL> | null;
      if (url?.protocol === 'file:' && typeof url.href === 'string') return resolve(fileURLToPath(url.href));
    } catch {
      // Not a path Node accepts either.
    }
    return undefined;
  }

  /** The file a path names, by its real path; provenant's own files (as written or as resolved) are marked. */
  private targetAt(absolute: string): FileTarget {
    const resource = this.engine.file(absolute);
    const real = resource.path as string;
    const target = { path: real, resource, options: { attributes: { 'file.path': real } } };
    return this.protection.isOwn(absolute) || this.protection.isOwn(real) ? { ...target, own: true } : target;
  }

  private selfProtectionDenial(path: string, reached: string): ProvenanceDeniedError | undefined {
    const reason = path === reached ? `${path} is provenant's own file` : `${path} leads to ${reached}, provenant's own file`;
    return this.engine.fixedFlow(this.engine.resources.file(path), {
      kind: 'deny',
      rule: 'self-protection',
      reason: `${reason}: the app may not write, move or remove its monitor's config, keys or state`,
    });
  }

  /**
   * `[file, counterpart]` for a file, or for every file under a directory; symlinks count as the
   * files they name. A `from` that does not exist is one file: an asynchronous write decided
   * before may create it before the transfer runs, with the provenance that write gave it.
   */
  private filePairs(from: string, to: string): [string, string][] {
    return internally(() => {
      const stat = lstatSync(from, { throwIfNoEntry: false });
      if (stat === undefined || !stat.isDirectory()) return [[from, to]];
      return filesUnder(from, true).map((file): [string, string] => [file, to + file.slice(from.length)]);
    });
  }
}

function noop(): void {}

/** The device and inode an fd refers to (a pipe and a socket have theirs too); undefined for a closed fd. */
function statOfFd(fd: number): { dev: number; ino: number } | undefined {
  try {
    return internally(() => fstatSync(fd));
  } catch {
    return undefined;
  }
}

/** What /proc/self/fd says an fd is (a path, `pipe:[…]`, `socket:[…]`, `/x (deleted)`); undefined without /proc or for a closed fd. */
function linkOfFd(fd: number): string | undefined {
  try {
    return internally(() => readlinkSync(`/proc/self/fd/${fd}`));
  } catch {
    return undefined;
  }
}

/** A path given as a string or as bytes (Buffer, Uint8Array), as text. */
function pathText(path: string | ArrayBufferView): string {
  return typeof path === 'string' ? path : Buffer.from(path.buffer, path.byteOffset, path.byteLength).toString();
}

/** Bytes in a data argument when that is cheap to know (strings are counted as UTF-8). */
export function sizeOf(data: unknown): number | undefined {
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (ArrayBuffer.isView(data)) return data.byteLength;
  return undefined;
}

/** Total bytes of a readv/writev buffer list. */
export function sizeOfAll(buffers: unknown): number | undefined {
  if (!Array.isArray(buffers)) return undefined;
  let total = 0;
  for (const buffer of buffers as unknown[]) total += ArrayBuffer.isView(buffer) ? buffer.byteLength : 0;
  return total;
}
