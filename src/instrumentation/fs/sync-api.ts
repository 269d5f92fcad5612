/**
 * The synchronous fs API. Denials are thrown before the original runs. These wrappers are the
 * hot path: no allocation, no path work for a path seen before, an array lookup for an fd.
 */
import type * as Fs from 'node:fs';
import { isInternal } from '../../support/reentrancy.js';
import { opensForWrite } from './flags.js';
import { loaderOpen, loaderReadFile } from './module-loading.js';
import { sizeOf, sizeOfAll, type FsFlows } from './flows.js';
import type { Patcher } from '../patcher.js';
import type { WaitingWrites } from './waiting-writes.js';

/** `waiting`: asynchronous writes still waiting for the disk, run before an fd call here overtakes them. */
export function patchSyncApi(fs: typeof Fs, flows: FsFlows, patcher: Patcher, waiting: WaitingWrites): void {
  patcher.wrapMethod(
    fs,
    'readFileSync',
    (original) =>
      function readFileSync(this: unknown, path: unknown, options: unknown): unknown {
        const target = flows.recording ? flows.targetOf(path) : undefined;
        if (target === undefined) return Reflect.apply(original, this, arguments);
        const loading = loaderReadFile(readFileSync, path, options);
        const data: unknown = callNested(flows, original, this, arguments);
        if (loading === undefined) flows.read(target, sizeOf(data), data);
        else if (loading === 'data') flows.dataModuleLoaded(target, sizeOf(data));
        return data;
      },
  );

  for (const name of ['writeFileSync', 'appendFileSync'] as const) {
    patcher.wrapMethod(
      fs,
      name,
      (original) =>
        function writeWholeFileSync(this: unknown, path: unknown, data: unknown): unknown {
          const target = flows.recording ? flows.targetOf(path) : undefined;
          if (target === undefined) return Reflect.apply(original, this, arguments);
          const denied = flows.authorizePath(target, sizeOf(data), data);
          if (denied !== undefined) throw denied;
          return callNested(flows, original, this, arguments);
        },
    );
  }

  patcher.wrapMethod(
    fs,
    'truncateSync',
    (original) =>
      function truncateSync(this: unknown, path: unknown): unknown {
        const target = flows.recording ? flows.targetOf(path) : undefined;
        if (target === undefined) return Reflect.apply(original, this, arguments);
        const denied = flows.authorizePath(target, undefined);
        if (denied !== undefined) throw denied;
        return callNested(flows, original, this, arguments);
      },
  );

  patcher.wrapMethod(
    fs,
    'openSync',
    (original) =>
      function openSync(this: unknown, path: unknown, flags: unknown): unknown {
        const target = flows.recording ? flows.targetOf(path) : undefined;
        const loading = target !== undefined ? loaderOpen(openSync, path, flags) : undefined;
        if (loading !== undefined) {
          const source: unknown = Reflect.apply(original, this, arguments);
          // The loader reads the source through this fd: not a flow of the app's.
          flows.opened(source, undefined);
          if (loading === 'data' && target !== undefined) flows.dataModuleLoaded(target, undefined);
          return source;
        }
        if (target !== undefined && opensForWrite(flags)) {
          const denied = flows.authorizePath(target, undefined);
          if (denied !== undefined) throw denied;
        }
        const fd: unknown = Reflect.apply(original, this, arguments);
        flows.opened(fd, target);
        return fd;
      },
  );

  patcher.wrapMethod(
    fs,
    'closeSync',
    (original) =>
      function closeSync(this: unknown, fd: unknown): unknown {
        waiting.settleAll();
        flows.closed(fd);
        return Reflect.apply(original, this, arguments);
      },
  );

  for (const name of ['fsyncSync', 'fdatasyncSync'] as const) {
    patcher.wrapMethod(
      fs,
      name,
      (original) =>
        function syncFdSync(this: unknown): unknown {
          waiting.settleAll();
          return Reflect.apply(original, this, arguments);
        },
    );
  }

  for (const name of ['readSync', 'readvSync'] as const) {
    patcher.wrapMethod(
      fs,
      name,
      (original) =>
        function readFromFdSync(this: unknown, fd: unknown): unknown {
          const target = !flows.nested.active && !isInternal() ? flows.fdTarget(fd) : undefined;
          const bytesRead: unknown = Reflect.apply(original, this, arguments);
          if (target !== undefined && (bytesRead as number) > 0 && !isInternal()) flows.read(target, bytesRead as number);
          return bytesRead;
        },
    );
  }

  for (const [name, size] of [
    ['writeSync', sizeOf],
    ['writevSync', sizeOfAll],
  ] as const) {
    patcher.wrapMethod(
      fs,
      name,
      (original) =>
        function writeToFdSync(this: unknown, fd: unknown, data: unknown): unknown {
          waiting.settleAll();
          if (!flows.nested.active && !isInternal()) {
            const denied = flows.authorizeFd(fd, size(data), name === 'writeSync' ? data : undefined);
            if (denied !== undefined) throw denied;
          }
          return Reflect.apply(original, this, arguments);
        },
    );
  }

  patcher.wrapMethod(
    fs,
    'ftruncateSync',
    (original) =>
      function ftruncateSync(this: unknown, fd: unknown): unknown {
        waiting.settleAll();
        const target = !flows.nested.active ? flows.fds[fd as number] : undefined;
        if (target !== undefined && !isInternal()) {
          const denied = flows.authorize(target, undefined);
          if (denied !== undefined) throw denied;
        }
        return Reflect.apply(original, this, arguments);
      },
  );

  for (const [name, op] of [
    ['copyFileSync', 'copy'],
    ['cpSync', 'copy'],
    ['renameSync', 'move'],
    ['linkSync', 'link'],
  ] as const) {
    patcher.wrapMethod(
      fs,
      name,
      (original) =>
        function transferSync(this: unknown, from: unknown, to: unknown): unknown {
          if (!flows.recording) return Reflect.apply(original, this, arguments);
          const denied = flows.transfer(op, from, to);
          if (denied !== undefined) throw denied;
          if (name === 'cpSync') flows.releaseCpFilter(arguments);
          try {
            return callNested(flows, original, this, arguments);
          } finally {
            if (op !== 'copy') flows.namesChanged();
          }
        },
    );
  }

  patcher.wrapMethod(
    fs,
    'symlinkSync',
    (original) =>
      function symlinkSync(this: unknown, target: unknown, path: unknown): unknown {
        if (!flows.recording) return Reflect.apply(original, this, arguments);
        const denied = flows.symlink(target, path);
        if (denied !== undefined) throw denied;
        try {
          return callNested(flows, original, this, arguments);
        } finally {
          flows.namesChanged();
        }
      },
  );

  for (const name of ['unlinkSync', 'rmSync'] as const) {
    patcher.wrapMethod(
      fs,
      name,
      (original) =>
        function removeSync(this: unknown, path: unknown): unknown {
          if (!flows.recording) return Reflect.apply(original, this, arguments);
          const denied = flows.guardRemoval(path);
          if (denied) throw denied;
          const files = flows.filesAt(path);
          const result = callNested(flows, original, this, arguments);
          flows.retire(files);
          return result;
        },
    );
  }
}

/** Run the original with the fs calls it makes itself passing straight through. */
function callNested(flows: FsFlows, original: (...args: never[]) => unknown, self: unknown, args: IArguments): unknown {
  return flows.nested.run(() => Reflect.apply(original, self, args) as unknown);
}
