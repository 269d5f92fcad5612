/**
 * `writeFile(path, asyncIterable | iterable | stream)`: the data arrives while the write is under
 * way, possibly after the context has read more. Each chunk is decided with the writer's context
 * as it arrives, and the first one before the original opens (and truncates) the file, so a
 * denial at the first chunk leaves the file untouched. A later denied chunk stops the write there:
 * the chunks before it were allowed and are written.
 */
import type { ProvenanceDeniedError } from '../../errors.js';

/** Data writeFile takes as chunks rather than one string or buffer. */
export function isChunked(data: unknown): data is Iterable<unknown> | AsyncIterable<unknown> {
  if (typeof data !== 'object' || data === null || ArrayBuffer.isView(data)) return false;
  return Symbol.asyncIterator in data || Symbol.iterator in data;
}

/**
 * Pull the first chunk and decide it; on allow, an async iterable that yields it and then the
 * rest, each decided. Rejects with the denial of the first chunk. An allowed chunk is yielded
 * once `durable()` settles (the provenance its decision saved is on disk; undefined: nothing to
 * wait for), and the write fails with its error when it cannot be.
 */
export async function decidedChunks(
  data: Iterable<unknown> | AsyncIterable<unknown>,
  decide: (chunk: unknown) => ProvenanceDeniedError | undefined,
  durable: () => Promise<void> | undefined,
): Promise<AsyncIterable<unknown>> {
  const iterator = Symbol.asyncIterator in data ? data[Symbol.asyncIterator]() : data[Symbol.iterator]();
  const first = await iterator.next();
  const denied = first.done === true ? undefined : decide(first.value);
  if (denied !== undefined) {
    await iterator.return?.();
    throw denied;
  }
  await durable();
  return (async function* rest(): AsyncGenerator<unknown> {
    if (first.done === true) return;
    yield first.value;
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) return;
      const deniedLater = decide(next.value);
      if (deniedLater !== undefined) {
        await iterator.return?.();
        throw deniedLater;
      }
      await durable();
      yield next.value;
    }
  })();
}
