/**
 * What the promise calls (promise-api.ts, file-handle.ts) share: deciding after the call returns,
 * running the original once the decision allowed it and its provenance is on disk, chunked
 * writeFile data, and recording a whole-file read.
 */
import type { ProvenanceDeniedError } from '../../errors.js';
import { decidedChunks, isChunked } from './chunked-data.js';
import { sizeOf, type FileTarget, type FsFlows } from './flows.js';
import type { NativeFunction } from '../patcher.js';

/**
 * A call decided after it returns (`FsFlows.later`): `decide` gives the denial, if any. The
 * original runs only once the decision allowed it and the provenance it committed is on disk;
 * a denial rejects the promise.
 */
export function decidedLater(flows: FsFlows, decide: () => ProvenanceDeniedError | undefined, run: () => unknown): Promise<unknown> {
  return flows.later(decide, (denied) => {
    if (denied !== undefined) throw denied;
    return whenDurable(flows, run);
  });
}

/** Data a write takes as one piece: Node rejects anything else before it writes. */
export function isBytes(data: unknown): boolean {
  return typeof data === 'string' || ArrayBuffer.isView(data);
}

/** Data writeFile/appendFile accept: Node rejects anything else before it opens the file. */
export function isFileData(data: unknown): boolean {
  return isBytes(data) || isChunked(data);
}

/** writeFile with chunked data (chunked-data.ts): the original runs only once the first chunk is allowed. */
export async function writeChunks(
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

export function recordWholeRead(flows: FsFlows, target: FileTarget | undefined, pending: unknown): unknown {
  if (target === undefined) return pending;
  return (pending as Promise<unknown>).then((data) => {
    flows.read(target, sizeOf(data), data);
    return data;
  });
}
