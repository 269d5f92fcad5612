/**
 * A `fs.WriteStream` shared by several flow contexts (a log file written by every request): each
 * `write()`/`end(chunk)` is decided with the context that calls it, when it is called. A chunk
 * the stream buffers is flushed later from whichever callback comes next, under another context,
 * so deciding at flush time would judge one context's data by another's labels, and one denial
 * would destroy the stream for everyone. A denied chunk fails that caller's write only (its
 * callback gets the error); the stream and the other contexts' chunks are unaffected.
 *
 * The stream's own I/O underneath (`_write`/`_writev` → fs.write or FileHandle#write) is then not
 * decided again; it waits until the provenance the decisions saved is on disk (synced on libuv's
 * pool, not on the writer's thread), and the stream fails with the error when it cannot be.
 * Opening is still decided in `_construct`'s open, so a denied stream never creates its file.
 */
import type * as Fs from 'node:fs';
import { isInternal } from '../../support/reentrancy.js';
import { sizeOf, type FileTarget, type FsFlows } from './flows.js';
import type { Patcher } from '../patcher.js';

interface StreamFields {
  readonly path?: unknown;
  readonly fd?: unknown;
}

export function patchWriteStream(fs: typeof Fs, flows: FsFlows, patcher: Patcher): void {
  const prototype = fs.WriteStream.prototype as unknown as object;
  const targetOf = (stream: StreamFields): FileTarget | undefined => {
    if (!flows.recording) return undefined;
    const fd = stream.fd;
    if (typeof fd === 'number') return flows.fds[fd];
    if (typeof fd === 'object' && fd !== null) return flows.handles.get(fd);
    return flows.targetOf(stream.path);
  };

  patcher.wrapMethod(
    prototype,
    'write',
    (original) =>
      function write(this: StreamFields, chunk: unknown, encoding?: unknown, callback?: unknown): unknown {
        const target = targetOf(this);
        const denied = target && flows.deferred(() => flows.authorize(target, sizeOf(chunk), chunk));
        if (denied === undefined) return Reflect.apply(original, this, arguments);
        const done = typeof encoding === 'function' ? encoding : callback;
        if (typeof done === 'function') process.nextTick(done, denied);
        return true;
      },
  );

  patcher.wrapMethod(
    prototype,
    'end',
    (original) =>
      function end(this: StreamFields, chunk?: unknown, encoding?: unknown, callback?: unknown): unknown {
        if (chunk === undefined || chunk === null || typeof chunk === 'function') return Reflect.apply(original, this, arguments);
        const target = targetOf(this);
        const denied = target && flows.deferred(() => flows.authorize(target, sizeOf(chunk), chunk));
        if (denied === undefined) return Reflect.apply(original, this, arguments);
        // The caller asked to end the stream: it ends, without the denied chunk.
        const done = typeof encoding === 'function' ? encoding : callback;
        if (typeof done === 'function') process.nextTick(done, denied);
        return Reflect.apply(original, this, []);
      },
  );

  for (const name of ['_write', '_writev'] as const) {
    patcher.wrapMethod(
      prototype,
      name,
      (original) =>
        function decidedAlready(this: unknown): unknown {
          if (isInternal()) return Reflect.apply(original, this, arguments);
          const args = arguments;
          const run = (): unknown => flows.nested.run(() => Reflect.apply(original, this, args) as unknown);
          const durable = flows.whenDurable();
          if (durable === undefined) return run();
          // The stream's own callback (last argument): the chunk failed, the stream errors.
          const done = args[args.length - 1] as (error: unknown) => void;
          durable.then(run).catch(done);
          return undefined;
        },
    );
  }
}
