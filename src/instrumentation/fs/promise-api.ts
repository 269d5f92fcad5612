/**
 * The promise fs API (`fs.promises`, which is also `fs/promises`) and FileHandle. A denial is a
 * rejected promise and the original never runs. An allowed write's provenance is committed
 * without blocking on the disk; the original runs once it is synced (`whenDurable`). FileHandle's prototype is not reachable
 * before the first handle exists, so it is patched when `fs.promises.open` returns one — the
 * only public way to get a FileHandle. Its streams and readLines() do their I/O through the
 * handle's read/write/writev methods, which are patched here.
 */
import type * as FsPromises from 'node:fs/promises';
import { isInternal } from '../../support/reentrancy.js';
import { decidedChunks, isChunked } from './chunked-data.js';
import { opensForWrite } from './flags.js';
import { loaderReadFile } from './module-loading.js';
import { sizeOf, sizeOfAll, type FileTarget, type FsFlows } from './flows.js';
import type { NativeFunction, Patcher } from '../patcher.js';

interface BytesRead {
  bytesRead: number;
}

/** Patches fs.promises; returns how to adopt a FileHandle another thread transferred here (mapped by its fd). */
export function patchPromiseApi(promises: typeof FsPromises, flows: FsFlows, patcher: Patcher): (handle: object) => void {
  let fileHandlePatched = false;
  const adopt = (handle: object, target: FileTarget | undefined): void => {
    if (!fileHandlePatched) {
      fileHandlePatched = true;
      patchFileHandle(Object.getPrototypeOf(handle) as object, flows, patcher);
    }
    if (target !== undefined) flows.handles.set(handle, target);
    // Its numeric fd used with the fd-level API (fs.readSync(handle.fd), …) is the same file.
    flows.opened((handle as { fd?: unknown }).fd, target);
  };

  patcher.wrapMethod(
    promises,
    'readFile',
    (original) =>
      function readFile(this: unknown, path: unknown, options: unknown): unknown {
        const target = flows.recording ? flows.targetOf(path) : undefined;
        // Node 22's ESM loader reads sources with this readFile (module-loading.ts).
        const loading = target === undefined ? undefined : loaderReadFile(readFile, path, options);
        if (loading === undefined) return recordWholeRead(flows, target, Reflect.apply(original, this, arguments));
        const source = Reflect.apply(original, this, arguments) as Promise<unknown>;
        if (loading === 'code' || target === undefined) return source;
        return source.then((data) => {
          flows.dataModuleLoaded(target, sizeOf(data));
          return data;
        });
      },
  );

  for (const name of ['writeFile', 'appendFile'] as const) {
    patcher.wrapMethod(
      promises,
      name,
      (original) =>
        function writeWholeFile(this: unknown, path: unknown, data: unknown): unknown {
          const target = flows.recording ? flows.targetOf(path) : undefined;
          const denied = target && flows.deferred(() => flows.authorizePath(target, sizeOf(data), data));
          if (denied) return Promise.reject(denied);
          if (target === undefined) return Reflect.apply(original, this, arguments);
          if (isChunked(data)) return writeChunks(flows, target, original, this, arguments);
          return whenDurable(flows, () => Reflect.apply(original, this, arguments));
        },
    );
  }

  patcher.wrapMethod(
    promises,
    'truncate',
    (original) =>
      function truncate(this: unknown, path: unknown): unknown {
        const target = flows.recording ? flows.targetOf(path) : undefined;
        const denied = target && flows.deferred(() => flows.authorizePath(target, undefined));
        if (denied) return Promise.reject(denied);
        return target === undefined
          ? Reflect.apply(original, this, arguments)
          : whenDurable(flows, () => Reflect.apply(original, this, arguments));
      },
  );

  patcher.wrapMethod(
    promises,
    'open',
    (original) =>
      function open(this: unknown, path: unknown, flags: unknown): unknown {
        const target = flows.recording ? flows.targetOf(path) : undefined;
        const writes = target !== undefined && opensForWrite(flags);
        const denied = writes ? flows.deferred(() => flows.authorizePath(target, undefined)) : undefined;
        if (denied) return Promise.reject(denied);
        const opening: unknown = writes
          ? whenDurable(flows, () => Reflect.apply(original, this, arguments))
          : Reflect.apply(original, this, arguments);
        return (opening as Promise<object>).then((handle) => {
          adopt(handle, target);
          return handle;
        });
      },
  );

  const namesChanged = (): void => flows.namesChanged();
  for (const [name, op] of [
    ['copyFile', 'copy'],
    ['rename', 'move'],
    ['link', 'link'],
  ] as const) {
    patcher.wrapMethod(
      promises,
      name,
      (original) =>
        function transfer(this: unknown, from: unknown, to: unknown): unknown {
          if (!flows.recording) return Reflect.apply(original, this, arguments);
          const denied = flows.deferred(() => flows.transfer(op, from, to));
          if (denied) return Promise.reject(denied);
          const pending = whenDurable(flows, () => Reflect.apply(original, this, arguments)) as Promise<unknown>;
          return op === 'copy' ? pending : pending.finally(namesChanged);
        },
    );
  }

  patcher.wrapMethod(
    promises,
    'symlink',
    (original) =>
      function symlink(this: unknown, target: unknown, path: unknown): unknown {
        if (!flows.recording) return Reflect.apply(original, this, arguments);
        const denied = flows.symlink(target, path);
        if (denied) return Promise.reject(denied);
        return (Reflect.apply(original, this, arguments) as Promise<unknown>).finally(namesChanged);
      },
  );

  patcher.wrapMethod(
    promises,
    'cp',
    (original) =>
      function cp(this: unknown, from: unknown, to: unknown): unknown {
        if (!flows.recording) return Reflect.apply(original, this, arguments);
        const denied = flows.transfer('copy', from, to);
        if (denied) return Promise.reject(denied);
        const clearMarks = flows.markCopiesChecked(from, to);
        flows.releaseCpFilter(arguments);
        return (Reflect.apply(original, this, arguments) as Promise<unknown>).finally(clearMarks);
      },
  );

  for (const name of ['unlink', 'rm'] as const) {
    patcher.wrapMethod(
      promises,
      name,
      (original) =>
        function remove(this: unknown, path: unknown): unknown {
          if (!flows.recording) return Reflect.apply(original, this, arguments);
          const denied = flows.guardRemoval(path);
          if (denied) return Promise.reject(denied);
          const files = flows.filesAt(path);
          return (Reflect.apply(original, this, arguments) as Promise<unknown>).then((result) => {
            flows.retire(files);
            return result;
          });
        },
    );
  }

  return (handle) => {
    if (!flows.handles.has(handle)) adopt(handle, flows.fdTarget((handle as { fd?: unknown }).fd));
  };
}

function patchFileHandle(prototype: object, flows: FsFlows, patcher: Patcher): void {
  patcher.wrapMethod(
    prototype,
    'close',
    (original) =>
      function close(this: { fd?: unknown }): unknown {
        flows.closed(this.fd);
        return Reflect.apply(original, this, arguments);
      },
  );

  for (const name of ['read', 'readv'] as const) {
    patcher.wrapMethod(
      prototype,
      name,
      (original) =>
        function readFromHandle(this: object): unknown {
          const target = isInternal() ? undefined : flows.handles.get(this);
          const pending = Reflect.apply(original, this, arguments) as Promise<BytesRead>;
          if (target === undefined) return pending;
          return pending.then((result) => {
            if (result.bytesRead > 0) flows.read(target, result.bytesRead);
            return result;
          });
        },
    );
  }

  patcher.wrapMethod(
    prototype,
    'readFile',
    (original) =>
      function readFile(this: object): unknown {
        const target = isInternal() ? undefined : flows.handles.get(this);
        return recordWholeRead(flows, target, Reflect.apply(original, this, arguments));
      },
  );

  patcher.wrapMethod(prototype, 'write', (original) => checkedHandleWrite(flows, original, sizeOf));
  for (const name of ['writeFile', 'appendFile'] as const) {
    patcher.wrapMethod(prototype, name, (original) => checkedHandleWrite(flows, original, sizeOf, true));
  }
  patcher.wrapMethod(prototype, 'writev', (original) => checkedHandleWrite(flows, original, sizeOfAll));
  patcher.wrapMethod(prototype, 'truncate', (original) => checkedHandleWrite(flows, original, () => undefined));
}

function checkedHandleWrite(
  flows: FsFlows,
  original: NativeFunction,
  size: (data: unknown) => number | undefined,
  /** writeFile/appendFile: the data may be an (async) iterable or a stream. */
  takesChunks = false,
): NativeFunction {
  return function writeToHandle(this: object, data: unknown): unknown {
    // Nested: a WriteStream over the handle, whose chunks were decided when written (write-stream.ts).
    const target = isInternal() || flows.nested.active ? undefined : flows.handles.get(this);
    const denied = target && flows.deferred(() => flows.authorize(target, size(data), data));
    if (denied) return Promise.reject(denied);
    if (target === undefined) return Reflect.apply(original, this, arguments);
    if (takesChunks && isChunked(data)) return writeChunks(flows, target, original, this, arguments, 0);
    return whenDurable(flows, () => Reflect.apply(original, this, arguments));
  };
}

/** writeFile with chunked data (chunked-data.ts): the original runs only once the first chunk is allowed. */
async function writeChunks(
  flows: FsFlows,
  target: FileTarget,
  original: NativeFunction,
  self: unknown,
  args: IArguments,
  dataIndex = 1,
): Promise<unknown> {
  // Decided chunk by chunk as the original consumes them, each moving once its provenance is on disk.
  const chunks = await decidedChunks(
    args[dataIndex] as AsyncIterable<unknown>,
    (chunk) => flows.deferred(() => flows.authorize(target, sizeOf(chunk), chunk)),
    () => flows.whenDurable(),
  );
  const rest = Array.prototype.slice.call(args) as unknown[];
  rest[dataIndex] = chunks;
  return Reflect.apply(original, self, rest) as unknown;
}

/**
 * Call an allowed write's original once the provenance its decision committed is on disk (at
 * once when nothing waits): the bytes never move before, and the call rejects with the error
 * when the provenance cannot be synced.
 */
function whenDurable(flows: FsFlows, run: () => unknown): unknown {
  const durable = flows.whenDurable();
  return durable === undefined ? run() : durable.then(run);
}

function recordWholeRead(flows: FsFlows, target: FileTarget | undefined, pending: unknown): unknown {
  if (target === undefined) return pending;
  return (pending as Promise<unknown>).then((data) => {
    flows.read(target, sizeOf(data), data);
    return data;
  });
}
