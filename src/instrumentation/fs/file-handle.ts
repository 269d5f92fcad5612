/**
 * FileHandle (patched on its prototype once the first handle exists, promise-api.ts). Its streams
 * and readLines() do their I/O through the handle's read/write/writev methods, which are patched
 * here. Writes are decided after the call returns, like the other promise calls; a close waits
 * for the writes queued on the handle before it, as plain Node's waits for the operations under way.
 * `close` is each handle's own property, wrapped on the handle when it is adopted.
 */
import { isInternal } from '../../support/reentrancy.js';
import { isChunked } from './chunked-data.js';
import { sizeOf, sizeOfAll, type FsFlows } from './flows.js';
import { decidedLater, isBytes, isFileData, recordWholeRead, writeChunks } from './promise-calls.js';
import type { NativeFunction, Patcher } from '../patcher.js';

interface BytesRead {
  bytesRead: number;
}

/**
 * Patches FileHandle's prototype; returns what every new handle goes through: its `close`, an
 * own property of each handle (a class field in Node), wrapped on the instance.
 */
export function patchFileHandle(prototype: object, flows: FsFlows, patcher: Patcher): (handle: object) => void {
  /** Settles once every write queued on the handle so far has run (or failed): their originals may not have started yet. */
  const lastWrites = new WeakMap<object, Promise<unknown>>();
  const watchClose = (handle: object): void => {
    const owner = handle as { close?: unknown; fd?: unknown };
    const original = owner.close;
    if (typeof original !== 'function') return;
    owner.close = function close(this: unknown): unknown {
      const closeNow = (): unknown => {
        flows.closed(owner.fd);
        return Reflect.apply(original, this, arguments);
      };
      const last = lastWrites.get(handle);
      if (last === undefined) return closeNow();
      // Plain Node closes a handle once the operations started on it are done: so here, once the
      // writes queued before the close have run (whatever their outcome).
      lastWrites.delete(handle);
      return last.then(closeNow, closeNow);
    };
  };

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

  const checked = (original: NativeFunction, data: HandleData): NativeFunction => checkedHandleWrite(flows, original, data, lastWrites);
  patcher.wrapMethod(prototype, 'write', (original) => checked(original, { size: sizeOf, valid: isBytes }));
  for (const name of ['writeFile', 'appendFile'] as const) {
    patcher.wrapMethod(prototype, name, (original) => checked(original, { size: sizeOf, valid: isFileData, chunks: true }));
  }
  patcher.wrapMethod(prototype, 'writev', (original) => checked(original, { size: sizeOfAll, valid: Array.isArray }));
  patcher.wrapMethod(prototype, 'truncate', (original) => checked(original, { size: () => undefined, valid: () => true }));
  return watchClose;
}

/** What a FileHandle write method takes as its first argument. */
interface HandleData {
  size: (data: unknown) => number | undefined;
  /** False for data Node rejects before writing anything: no decision, the original rejects as plain. */
  valid: (data: unknown) => boolean;
  /** writeFile/appendFile: the data may be an (async) iterable or a stream. */
  chunks?: true;
}

function checkedHandleWrite(
  flows: FsFlows,
  original: NativeFunction,
  kind: HandleData,
  lastWrites: WeakMap<object, Promise<unknown>>,
): NativeFunction {
  return function writeToHandle(this: object, data: unknown): unknown {
    // Nested: a WriteStream over the handle, whose chunks were decided when written (write-stream.ts).
    const target = isInternal() || flows.nested.active ? undefined : flows.handles.get(this);
    if (target === undefined || !kind.valid(data)) return Reflect.apply(original, this, arguments);
    const pending = decidedLater(
      flows,
      () => flows.authorize(target, kind.size(data), data),
      () =>
        kind.chunks === true && isChunked(data)
          ? writeChunks(flows, target, original, this, arguments, 0)
          : Reflect.apply(original, this, arguments),
    );
    // A close waits for every write queued before it (allSettled: this promise is nobody's to handle).
    const earlier = lastWrites.get(this);
    lastWrites.set(this, earlier === undefined ? pending : Promise.allSettled([earlier, pending]));
    return pending;
  };
}
