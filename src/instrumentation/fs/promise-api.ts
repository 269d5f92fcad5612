/**
 * The promise fs API (`fs.promises`, which is also `fs/promises`). A call that writes, copies,
 * moves or removes only queues its decision and returns its promise (promise-calls.ts
 * `decidedLater`): the decision is taken after the caller's synchronous run, in call order,
 * before any later flow (engine/deferred-decisions.ts), so the caller's thread pays neither for
 * resolving the file nor for the policy, the journal or the store. A denial is a rejected promise
 * and the original never runs. FileHandle's prototype is not reachable before the first handle
 * exists, so it is patched (file-handle.ts) when `fs.promises.open` returns one — the only public
 * way to get a FileHandle.
 */
import type * as FsPromises from 'node:fs/promises';
import { isChunked } from './chunked-data.js';
import { patchFileHandle } from './file-handle.js';
import { opensForWrite } from './flags.js';
import { loaderReadFileAsync } from './module-loading.js';
import { sizeOf, type FileTarget, type FsFlows, type Removal } from './flows.js';
import { decidedLater, isFileData, recordWholeRead, writeChunks } from './promise-calls.js';
import type { Patcher } from '../patcher.js';

/** Patches fs.promises; returns how to adopt a FileHandle another thread transferred here (mapped by its fd). */
export function patchPromiseApi(promises: typeof FsPromises, flows: FsFlows, patcher: Patcher): (handle: object) => void {
  let watchClose: ((handle: object) => void) | undefined;
  const adopt = (handle: object, target: FileTarget | undefined): void => {
    watchClose ??= patchFileHandle(Object.getPrototypeOf(handle) as object, flows, patcher);
    watchClose(handle);
    if (target !== undefined) flows.handles.set(handle, target);
    // Its numeric fd used with the fd-level API (fs.readSync(handle.fd), …) is the same file.
    flows.opened((handle as { fd?: unknown }).fd, target);
  };

  patcher.wrapMethod(
    promises,
    'readFile',
    (original) =>
      function readFile(this: unknown, path: unknown): unknown {
        const target = flows.recording ? flows.targetOf(path) : undefined;
        // Node 22's ESM loader reads sources with this readFile (module-loading.ts).
        const loading = target === undefined ? undefined : loaderReadFileAsync(readFile, path);
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
          if (!flows.recording || !isFileData(data)) return Reflect.apply(original, this, arguments);
          let target: FileTarget | undefined;
          return decidedLater(
            flows,
            () => {
              target = flows.targetOf(path);
              return target && flows.authorizePath(target, sizeOf(data), data);
            },
            () =>
              target !== undefined && isChunked(data)
                ? writeChunks(flows, target, original, this, arguments)
                : Reflect.apply(original, this, arguments),
          );
        },
    );
  }

  patcher.wrapMethod(
    promises,
    'truncate',
    (original) =>
      function truncate(this: unknown, path: unknown): unknown {
        if (!flows.recording) return Reflect.apply(original, this, arguments);
        return decidedLater(
          flows,
          () => {
            const target = flows.targetOf(path);
            return target && flows.authorizePath(target, undefined);
          },
          () => Reflect.apply(original, this, arguments),
        );
      },
  );

  patcher.wrapMethod(
    promises,
    'open',
    (original) =>
      function open(this: unknown, path: unknown, flags: unknown): unknown {
        const writes = flows.recording && opensForWrite(flags);
        let target = flows.recording && !writes ? flows.targetOf(path) : undefined;
        const opening = (): Promise<object> =>
          (Reflect.apply(original, this, arguments) as Promise<object>).then((handle) => {
            adopt(handle, target);
            return handle;
          });
        if (!writes) return opening();
        return decidedLater(
          flows,
          () => {
            target = flows.targetOf(path);
            return target && flows.authorizePath(target, undefined);
          },
          opening,
        );
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
          const pending = decidedLater(
            flows,
            () => flows.transfer(op, from, to),
            () => Reflect.apply(original, this, arguments),
          );
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
        return decidedLater(
          flows,
          () => flows.symlink(target, path),
          () => Reflect.apply(original, this, arguments),
        ).finally(namesChanged);
      },
  );

  patcher.wrapMethod(
    promises,
    'cp',
    (original) =>
      function cp(this: unknown, from: unknown, to: unknown): unknown {
        if (!flows.recording) return Reflect.apply(original, this, arguments);
        return decidedLater(
          flows,
          () => flows.transfer('copy', from, to),
          () => {
            const clearMarks = flows.markCopiesChecked(from, to);
            flows.releaseCpFilter(arguments);
            return (Reflect.apply(original, this, arguments) as Promise<unknown>).finally(clearMarks);
          },
        );
      },
  );

  for (const name of ['unlink', 'rm'] as const) {
    patcher.wrapMethod(
      promises,
      name,
      (original) =>
        function remove(this: unknown, path: unknown): unknown {
          if (!flows.recording) return Reflect.apply(original, this, arguments);
          let removal: Removal = { files: [], onlyFiles: false };
          return decidedLater(
            flows,
            () => {
              const denied = flows.guardRemoval(path);
              if (denied === undefined) removal = flows.filesAt(path);
              return denied;
            },
            () =>
              (Reflect.apply(original, this, arguments) as Promise<unknown>).then((result) => {
                flows.retire(removal);
                return result;
              }),
          );
        },
    );
  }

  return (handle) => {
    if (!flows.handles.has(handle)) adopt(handle, flows.fdTarget((handle as { fd?: unknown }).fd));
  };
}
