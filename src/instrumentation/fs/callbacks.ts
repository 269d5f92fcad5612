/**
 * Callback-style plumbing: surfacing a denial as the callback's first argument (asynchronously,
 * as fs reports its own errors), hooking the callback to record what completed, and deciding a
 * call Node cannot throw for after it returns.
 */
import { diag } from '@opentelemetry/api';
import type { ProvenanceDeniedError } from '../../errors.js';
import type { FsFlows } from './flows.js';
import type { NativeFunction } from '../patcher.js';
import type { WaitingWrites } from './waiting-writes.js';

type Callback = (this: unknown, ...args: unknown[]) => unknown;

/** Index of the callback: the last argument when it is a function. */
function callbackIndex(args: IArguments): number {
  const last = args.length - 1;
  return last >= 0 && typeof args[last] === 'function' ? last : -1;
}

/** Deliver `error` to the call's callback on the next tick; without a callback, throw it (Node would throw too). */
export function failCallback(args: IArguments, error: Error): undefined {
  const index = callbackIndex(args);
  if (index < 0) throw error;
  process.nextTick(args[index] as Callback, error);
  return undefined;
}

/**
 * The call's arguments with the callback replaced by one that runs `onSuccess(result…)` (or
 * `onError()`) before the app's callback, in the caller's async context, which fs preserves;
 * undefined when there is no callback to hook.
 */
export function hookCallback(
  args: IArguments,
  onSuccess: (first: unknown, second: unknown) => void,
  onError?: () => void,
): unknown[] | undefined {
  const index = callbackIndex(args);
  if (index < 0) return undefined;
  const callback = args[index] as Callback;
  const hooked = Array.prototype.slice.call(args) as unknown[];
  hooked[index] = function hookedCallback(this: unknown, error: unknown, first: unknown, second: unknown): unknown {
    try {
      if (error === null || error === undefined) onSuccess(first, second);
      else onError?.();
    } catch (failure) {
      diag.warn('provenant: recording a completed fs call failed', failure);
    }
    return Reflect.apply(callback, this, arguments) as unknown;
  };
  return hooked;
}

/**
 * Call an allowed write's original once `durable` (the provenance its decision committed, being
 * synced) settles, or at once when nothing waits; when it cannot be synced the callback gets the
 * error and the original never runs. Without a callback the original runs at once (and throws,
 * as Node does). A synchronous fd call made meanwhile runs it first (waiting-writes.ts), with
 * `runNow` when given.
 */
export function whenDurable(
  args: IArguments,
  durable: Promise<void> | undefined,
  waiting: WaitingWrites,
  run: () => unknown,
  runNow?: () => void,
): unknown {
  const index = callbackIndex(args);
  if (durable === undefined || index < 0) return run();
  const callback = args[index] as Callback;
  waiting.add(durable, run, (error) => callback(error), runNow);
  return undefined;
}

/**
 * fs.write / fs.writev done now through their synchronous twin (same arguments but the
 * callback), the callback called on the next tick with what Node would pass: the error, or the
 * bytes written and the data.
 */
export function writeNow(writeSync: NativeFunction, receiver: unknown, args: IArguments): () => void {
  return () => {
    const index = callbackIndex(args);
    const callback = args[index] as Callback;
    const rest = Array.prototype.slice.call(args, 0, index) as unknown[];
    let written: unknown;
    try {
      written = Reflect.apply(writeSync, receiver, rest);
    } catch (error) {
      process.nextTick(callback, error);
      return;
    }
    process.nextTick(callback, null, written, rest[1]);
  };
}

/**
 * `writeFile`/`appendFile` arguments Node throws for before it touches anything: no callback,
 * data neither a string nor a buffer, a NUL in a string path. The original runs undecided and
 * throws as plain.
 */
export function refusedByNode(args: IArguments): boolean {
  const [path, data] = args as unknown as unknown[];
  if (callbackIndex(args) < 0 || (typeof data !== 'string' && !ArrayBuffer.isView(data))) return true;
  return typeof path === 'string' && path.includes('\0');
}

/**
 * Arguments not `refusedByNode` that Node takes as they are: `(path, data, callback)` or
 * `(path, data, encoding, callback)` with a string path and a known encoding (or none). Node
 * throws for none of them, so the call may return before it is decided.
 */
export function acceptedAsIs(args: IArguments): boolean {
  if (typeof args[0] !== 'string') return false;
  if (args.length === 3) return true;
  const encoding = args[2] as unknown;
  return args.length === 4 && (encoding == null || (typeof encoding === 'string' && Buffer.isEncoding(encoding)));
}

/**
 * A callback write decided after it returns (`FsFlows.later`; the call must be one Node takes as
 * it is, `acceptedAsIs`): a denial reaches the callback, an allowed call runs its original once
 * its provenance is on disk. A decision that failed, or an original that threw, hands the callback
 * its error; nothing was written.
 */
export function decidedAfterReturn(
  flows: FsFlows,
  waiting: WaitingWrites,
  args: IArguments,
  decide: () => ProvenanceDeniedError | undefined,
  run: () => unknown,
): undefined {
  const callback = args[args.length - 1] as Callback;
  flows
    .later(decide, (denied) => (denied ? failCallback(args, denied) : whenDurable(args, flows.whenDurable(), waiting, run)))
    .then(undefined, (error: unknown) => process.nextTick(callback, error));
  return undefined;
}
