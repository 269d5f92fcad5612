/**
 * What every fs wrapper shares: turning path arguments and fds into file resources (cached, so
 * the hot path does no path work), the fd and FileHandle tables, and the calls into the engine.
 * Knows nothing of policy, spans or the store: it asks the engine and surfaces what it says.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { diag } from '@opentelemetry/api';
import type { FlowEngine, FlowOptions } from '../../engine/flow-engine.js';
import { BoundedCache } from '../../support/bounded-cache.js';
import { internally, isInternal, ReentrancyGuard } from '../../support/reentrancy.js';
import type { ProvenanceDeniedError } from '../../errors.js';
import type { Resource } from '../../provenance/resource.js';

/** A file the app reads or writes, resolved once and reused for every flow. */
export interface FileTarget {
  /** Absolute, normalised. */
  readonly path: string;
  readonly resource: Resource;
  /** `file.path` attribute; one object per file so a repeated flow allocates nothing. */
  readonly options: FlowOptions;
}

const PATH_CACHE_LIMIT = 8192;

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
  /** Targets of fds opened through the patched APIs; any other fd (stdio, sockets) is not a file flow. */
  readonly fds: (FileTarget | undefined)[] = [];
  /** FileHandles returned by the patched `fs.promises.open`. */
  readonly handles = new WeakMap<object, FileTarget>();
  /** `null` caches "not a flow" (provenant's own state dir). */
  private readonly absolutePaths = new BoundedCache<string, FileTarget | null>(PATH_CACHE_LIMIT);
  private readonly relativePaths = new BoundedCache<string, FileTarget | null>(PATH_CACHE_LIMIT);
  private relativeBase = '';
  /** Copies already checked by an enclosing cp(), keyed `from\0to`, so Node's per-file copyFile calls are not checked twice. */
  private readonly checkedCopies = new Set<string>();

  private readonly stateDir: string;

  constructor(
    private readonly engine: FlowEngine,
    stateDir: string,
    /** The journal wants content digests: pass the bytes along when they are at hand. */
    private readonly wantsContent: boolean,
  ) {
    this.stateDir = resolve(stateDir);
  }

  /** The file a path argument (string, Buffer, file: URL), fd or FileHandle names, or undefined when it is not a file flow. */
  targetOf(path: unknown): FileTarget | undefined {
    if (typeof path === 'string') {
      const cache = path.charCodeAt(0) === 47 /* '/' */ ? this.absolutePaths : this.relativeCache();
      const cached = cache.get(path);
      if (cached !== undefined) return cached ?? undefined;
      const target = this.targetAt(resolve(path));
      cache.set(path, target);
      return target ?? undefined;
    }
    if (typeof path === 'number') return this.fds[path];
    if (typeof path !== 'object' || path === null) return undefined;
    return this.handles.get(path) ?? this.targetOfObject(path);
  }

  read(target: FileTarget, bytes: number | undefined, content?: unknown): void {
    this.engine.read(target.resource, bytes, this.optionsFor(target, content));
  }

  /** Checks a write before any byte moves; the error to surface when it is denied. */
  authorize(target: FileTarget, bytes: number | undefined, content?: unknown): ProvenanceDeniedError | undefined {
    try {
      const decision = this.engine.authorizeWrite(target.resource, bytes, this.optionsFor(target, content));
      return decision.kind === 'deny' ? this.engine.deniedError(decision, target.resource) : undefined;
    } catch (error) {
      diag.warn(`provenant: checking a write to ${target.path} failed; the write proceeds`, error);
      return undefined;
    }
  }

  /**
   * copyFile / cp / rename: provenance goes from file to file. A directory is checked file by
   * file before anything moves. Returns the error of the first denied file.
   */
  transfer(op: 'copy' | 'move', from: unknown, to: unknown): ProvenanceDeniedError | undefined {
    const source = this.targetOf(from);
    const destination = this.targetOf(to);
    if (source === undefined || destination === undefined) return undefined;
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

  /** Files at or under a path about to be removed (their provenance is retired once it is gone). */
  filesAt(path: unknown): string[] {
    const target = this.targetOf(path);
    if (target === undefined) return [];
    try {
      return this.filePairs(target.path, target.path).map(([file]) => file);
    } catch {
      return [target.path];
    }
  }

  retire(files: readonly string[]): void {
    for (const file of files) this.engine.retire(file);
  }

  /** Remember which file an fd opened through a patched API belongs to (clears a stale entry for a reused fd). */
  opened(fd: unknown, target: FileTarget | undefined): void {
    if (typeof fd === 'number' && (target !== undefined || this.fds[fd] !== undefined)) this.fds[fd] = target;
  }

  closed(fd: unknown): void {
    if (typeof fd === 'number' && this.fds[fd] !== undefined) this.fds[fd] = undefined;
  }

  private optionsFor(target: FileTarget, content: unknown): FlowOptions {
    if (!this.wantsContent || (typeof content !== 'string' && !ArrayBuffer.isView(content))) return target.options;
    const bytes = typeof content === 'string' ? content : new Uint8Array(content.buffer, content.byteOffset, content.byteLength);
    return { ...target.options, content: bytes };
  }

  private relativeCache(): BoundedCache<string, FileTarget | null> {
    const cwd = process.cwd();
    if (cwd !== this.relativeBase) {
      this.relativePaths.clear();
      this.relativeBase = cwd;
    }
    return this.relativePaths;
  }

  private targetOfObject(path: object): FileTarget | undefined {
    try {
      if (path instanceof Uint8Array)
        return this.targetAt(resolve(Buffer.from(path.buffer, path.byteOffset, path.byteLength).toString())) ?? undefined;
      const url = path as Partial<URL>;
      if (url.protocol === 'file:' && typeof url.href === 'string') return this.targetAt(resolve(fileURLToPath(url.href))) ?? undefined;
    } catch {
      // Not a path Node accepts either: the original call reports it.
    }
    return undefined;
  }

  private targetAt(absolute: string): FileTarget | null {
    if (absolute === this.stateDir || (absolute.startsWith(this.stateDir) && absolute.charCodeAt(this.stateDir.length) === 47)) return null;
    return { path: absolute, resource: this.engine.resources.file(absolute), options: { attributes: { 'file.path': absolute } } };
  }

  /** `[file, counterpart]` for a file, or for every file under a directory; none when `from` does not exist. */
  private filePairs(from: string, to: string): [string, string][] {
    return internally(() => {
      const stat = lstatSync(from, { throwIfNoEntry: false });
      if (stat === undefined) return [];
      if (!stat.isDirectory()) return [[from, to]];
      const pairs: [string, string][] = [];
      for (const entry of readdirSync(from, { withFileTypes: true, recursive: true })) {
        if (entry.isDirectory()) continue;
        const file = join(entry.parentPath, entry.name);
        pairs.push([file, to + file.slice(from.length)]);
      }
      return pairs;
    });
  }
}

function noop(): void {}

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
