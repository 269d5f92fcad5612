/**
 * The callback fs API. A denial reaches the callback as its error on the next tick and the
 * original never runs; an allowed write runs once the provenance it committed is on disk, which
 * is waited for on libuv's pool, not on this thread (callbacks.ts `whenDurable`); completed reads are recorded before the app's callback runs. Streams
 * created from a path do their I/O through these functions (fs.open/read/write/writev/close
 * of the fs module), so a denied createWriteStream fails in its `_construct` open: the file
 * is never created.
 */
import type * as Fs from 'node:fs';
import { acceptedAsIs, decidedAfterReturn, failCallback, hookCallback, refusedByNode, whenDurable, writeNow } from './callbacks.js';
import { opensForWrite } from './flags.js';
import { sizeOf, sizeOfAll, type FsFlows } from './flows.js';
import type { NativeFunction, Patcher } from '../patcher.js';
import type { WaitingWrites } from './waiting-writes.js';

/** `syncTwins`: the unpatched fs.writeSync and fs.writevSync, to run a waiting fd write now. */
export function patchCallbackApi(
  fs: typeof Fs,
  flows: FsFlows,
  patcher: Patcher,
  waiting: WaitingWrites,
  syncTwins: { write: NativeFunction; writev: NativeFunction },
): void {
  const namesChanged = (): void => flows.namesChanged();
  patcher.wrapMethod(
    fs,
    'readFile',
    (original) =>
      function readFile(this: unknown, path: unknown): unknown {
        const target = flows.recording ? flows.targetOf(path) : undefined;
        const args = target && hookCallback(arguments, (data) => flows.read(target, sizeOf(data), data));
        return Reflect.apply(original, this, args ?? arguments);
      },
  );

  for (const name of ['writeFile', 'appendFile'] as const) {
    patcher.wrapMethod(
      fs,
      name,
      (original) =>
        function writeWholeFile(this: unknown, path: unknown, data: unknown): unknown {
          if (!flows.recording || refusedByNode(arguments)) return Reflect.apply(original, this, arguments);
          if (acceptedAsIs(arguments)) {
            // Decided after it returns, as the promise calls are: nothing here can throw.
            return decidedAfterReturn(
              flows,
              waiting,
              arguments,
              () => {
                const target = flows.targetOf(path);
                return target && flows.authorizePath(target, sizeOf(data), data);
              },
              () => Reflect.apply(original, this, arguments),
            );
          }
          const target = flows.targetOf(path);
          const denied = target && flows.deferred(() => flows.authorizePath(target, sizeOf(data), data));
          if (denied) return failCallback(arguments, denied);
          if (target === undefined) return Reflect.apply(original, this, arguments);
          return whenDurable(arguments, flows.whenDurable(), waiting, () => Reflect.apply(original, this, arguments));
        },
    );
  }

  // openAsBlob: the Blob's bytes are the file's, read lazily; taken as a read when the Blob is made.
  patcher.wrapMethod(
    fs,
    'openAsBlob',
    (original) =>
      function openAsBlob(this: unknown, path: unknown): unknown {
        const target = flows.recording ? flows.targetOf(path) : undefined;
        const pending = Reflect.apply(original, this, arguments) as Promise<Blob>;
        if (target === undefined) return pending;
        return pending.then((blob) => {
          flows.read(target, blob.size);
          return blob;
        });
      },
  );

  patcher.wrapMethod(
    fs,
    'truncate',
    (original) =>
      function truncate(this: unknown, path: unknown): unknown {
        const target = flows.recording ? flows.targetOf(path) : undefined;
        const denied = target && flows.deferred(() => flows.authorizePath(target, undefined));
        if (denied) return failCallback(arguments, denied);
        if (target === undefined) return Reflect.apply(original, this, arguments);
        return whenDurable(arguments, flows.whenDurable(), waiting, () => Reflect.apply(original, this, arguments));
      },
  );

  patcher.wrapMethod(
    fs,
    'open',
    (original) =>
      function open(this: unknown, path: unknown, flags: unknown): unknown {
        const target = flows.recording ? flows.targetOf(path) : undefined;
        const writes = target !== undefined && typeof flags !== 'function' && opensForWrite(flags);
        const denied = writes ? flows.deferred(() => flows.authorizePath(target, undefined)) : undefined;
        if (denied) return failCallback(arguments, denied);
        // Hooked even for untracked files: a reused fd number must not keep a stale entry.
        const args = hookCallback(arguments, (fd) => flows.opened(fd, target));
        if (!writes) return Reflect.apply(original, this, args ?? arguments);
        return whenDurable(arguments, flows.whenDurable(), waiting, () => Reflect.apply(original, this, args ?? arguments));
      },
  );

  patcher.wrapMethod(
    fs,
    'close',
    (original) =>
      function close(this: unknown, fd: unknown): unknown {
        waiting.settleAll();
        flows.closed(fd);
        return Reflect.apply(original, this, arguments);
      },
  );

  // A sync of an fd must cover the writes made before it, as plain.
  for (const name of ['fsync', 'fdatasync'] as const) {
    patcher.wrapMethod(
      fs,
      name,
      (original) =>
        function syncFd(this: unknown): unknown {
          waiting.settleAll();
          return Reflect.apply(original, this, arguments);
        },
    );
  }

  for (const name of ['read', 'readv'] as const) {
    patcher.wrapMethod(
      fs,
      name,
      (original) =>
        function readFromFd(this: unknown, fd: unknown): unknown {
          const target = flows.recording ? flows.fdTarget(fd) : undefined;
          const args =
            target &&
            hookCallback(arguments, (bytesRead) => {
              if ((bytesRead as number) > 0) flows.read(target, bytesRead as number);
            });
          return Reflect.apply(original, this, args ?? arguments);
        },
    );
  }

  for (const [name, size] of [
    ['write', sizeOf],
    ['writev', sizeOfAll],
  ] as const) {
    patcher.wrapMethod(
      fs,
      name,
      (original) =>
        function writeToFd(this: unknown, fd: unknown, data: unknown): unknown {
          if (!flows.recording) return Reflect.apply(original, this, arguments);
          const denied = flows.deferred(() => flows.authorizeFd(fd, size(data), name === 'write' ? data : undefined));
          if (denied) return failCallback(arguments, denied);
          const durable = flows.whenDurable();
          if (durable === undefined) return Reflect.apply(original, this, arguments);
          const now = writeNow(syncTwins[name], fs, arguments);
          return whenDurable(arguments, durable, waiting, () => Reflect.apply(original, this, arguments), now);
        },
    );
  }

  patcher.wrapMethod(
    fs,
    'ftruncate',
    (original) =>
      function ftruncate(this: unknown, fd: unknown): unknown {
        const target = flows.recording ? flows.fds[fd as number] : undefined;
        const denied = target && flows.deferred(() => flows.authorize(target, undefined));
        if (denied) return failCallback(arguments, denied);
        if (target === undefined) return Reflect.apply(original, this, arguments);
        return whenDurable(arguments, flows.whenDurable(), waiting, () => Reflect.apply(original, this, arguments));
      },
  );

  for (const [name, op] of [
    ['copyFile', 'copy'],
    ['rename', 'move'],
    ['link', 'link'],
  ] as const) {
    patcher.wrapMethod(
      fs,
      name,
      (original) =>
        function transfer(this: unknown, from: unknown, to: unknown): unknown {
          if (!flows.recording) return Reflect.apply(original, this, arguments);
          const denied = flows.deferred(() => flows.transfer(op, from, to));
          if (denied) return failCallback(arguments, denied);
          const args = op === 'copy' ? undefined : hookCallback(arguments, namesChanged, namesChanged);
          return whenDurable(arguments, flows.whenDurable(), waiting, () => Reflect.apply(original, this, args ?? arguments));
        },
    );
  }

  patcher.wrapMethod(
    fs,
    'symlink',
    (original) =>
      function symlink(this: unknown, target: unknown, path: unknown): unknown {
        if (!flows.recording) return Reflect.apply(original, this, arguments);
        const denied = flows.symlink(target, path);
        if (denied) return failCallback(arguments, denied);
        const args = hookCallback(arguments, namesChanged, namesChanged);
        return Reflect.apply(original, this, args ?? arguments);
      },
  );

  patcher.wrapMethod(
    fs,
    'cp',
    (original) =>
      function cp(this: unknown, from: unknown, to: unknown): unknown {
        if (!flows.recording) return Reflect.apply(original, this, arguments);
        const denied = flows.transfer('copy', from, to);
        if (denied) return failCallback(arguments, denied);
        const clearMarks = flows.markCopiesChecked(from, to);
        flows.releaseCpFilter(arguments);
        const args = hookCallback(arguments, clearMarks, clearMarks);
        return Reflect.apply(original, this, args ?? arguments);
      },
  );

  for (const name of ['unlink', 'rm'] as const) {
    patcher.wrapMethod(
      fs,
      name,
      (original) =>
        function remove(this: unknown, path: unknown): unknown {
          if (!flows.recording) return Reflect.apply(original, this, arguments);
          const denied = flows.guardRemoval(path);
          if (denied) return failCallback(arguments, denied);
          const files = flows.filesAt(path);
          const args = hookCallback(arguments, () => flows.retire(files));
          return Reflect.apply(original, this, args ?? arguments);
        },
    );
  }
}
