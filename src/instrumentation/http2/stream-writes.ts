/**
 * Every way a byte enters an HTTP/2 stream is decided. Http2Stream `write`/`end` (body bytes, with
 * the claim a trusted caller needs sent first) and `sendTrailers` ask the gate; and, as for a
 * socket (net/socket-writes.ts), the stream prototypes' `write`/`end` called on a stream (`Writable.prototype.write.call(stream,
 * …)`, which skips the Http2Stream `write` the gate wraps) decide with the writer's context and
 * admit the chunk; Http2Stream `_write`/`_writev` let admitted chunks through whatever context
 * Node flushes them in, and decide any other (the app calling them itself); the stream handle's
 * write methods (`stream[kHandle].writeUtf8String(…)`) let through the one call `_write` makes
 * and decide any other for the stream that owns the handle; a refusal's own problem body (the
 * gate's `refusing`) passes. All locked (Patcher.lock): the
 * handle's prototype as the first stream gets its handle ('ready') or first writes.
 */
import type { EventEmitter } from 'node:events';
import type http2 from 'node:http2';
import type { FlowContexts } from '../../provenance/context.js';
import { bindEmitsToContext } from '../net/context-binding.js';
import { AdmittedChunks } from '../net/admitted-chunks.js';
import { decideOtherStreamWrites } from '../net/socket-writes.js';
import { HANDLE_DENIED, HANDLE_WRITES, handleOwner } from '../native-handles.js';
import type { Patcher } from '../patcher.js';
import { headersSent } from './propagation.js';
import { STREAM_FLOW, type FlowStream, type Method, type StreamGate } from './stream-gate.js';

type StreamWrite = (this: FlowStream, ...args: unknown[]) => unknown;
type HandleWrite = (this: object, ...args: unknown[]) => unknown;

const admitted = new WeakMap<FlowStream, AdmittedChunks>();
/** The stream whose `_write` is handing its chunk to its handle right now. */
const pass: { stream: FlowStream | undefined } = { stream: undefined };
let handleLocked = false;
let kHandle: symbol | undefined;

/** Patches the stream prototypes (internal to Node) from the first stream seen. */
export function patchStreamWrites(stream: FlowStream, gate: StreamGate, patcher: Patcher, contexts: FlowContexts): void {
  let base: object | null = Object.getPrototypeOf(stream) as object;
  while (base !== null && !Object.prototype.hasOwnProperty.call(base, 'sendTrailers')) base = Object.getPrototypeOf(base) as object | null;
  if (base === null) return;
  const streamProto = base as Record<'write' | 'end' | 'sendTrailers', Method>;
  // A stream's events ('data', 'end', 'trailers', 'response'...) come from the session's socket:
  // without this they would run in whatever context that socket was opened in, shared by every stream.
  bindEmitsToContext(patcher, base as EventEmitter, contexts);

  /** A server stream's refusal, or undefined (a client stream is destroyed with the error). */
  const refuserOf = (target: FlowStream, end: Method): ((error: Error) => void) | undefined =>
    target[STREAM_FLOW]?.server === true ? gate.refuser(target, end) : undefined;
  /**
   * Body bytes to a trusted caller need the claim in the headers first: Node's implicit respond
   * (a write before `respond()`) bypasses the prototype, so respond explicitly (decided, claimed).
   */
  const respondFirst = (target: FlowStream): void => {
    if (target[STREAM_FLOW]?.claim !== undefined && !headersSent(target) && !target.destroyed)
      (target as unknown as http2.ServerHttp2Stream).respond();
  };

  const endOriginal = streamProto.end;
  gate.end = endOriginal;
  patcher.wrap(
    streamProto,
    'write',
    (write) =>
      function (this: FlowStream, ...args: unknown[]): unknown {
        respondFirst(this);
        return gate.allowed(this, refuserOf(this, endOriginal), true) ? write.apply(this, args) : false;
      },
  );
  patcher.wrap(
    streamProto,
    'end',
    (original) =>
      function (this: FlowStream, ...args: unknown[]): unknown {
        const sends = args[0] !== undefined && args[0] !== null && typeof args[0] !== 'function';
        if (!sends) return original.apply(this, args);
        respondFirst(this);
        return gate.allowed(this, refuserOf(this, original), true) ? original.apply(this, args) : this;
      },
  );
  lockStreamWrites(base, gate, patcher, respondFirst);
  patcher.wrap(
    streamProto,
    'sendTrailers',
    (original) =>
      function (this: FlowStream, ...args: unknown[]): unknown {
        return gate.allowed(this, undefined, false) ? original.apply(this, args) : undefined;
      },
  );
}

/**
 * Locks the writes of `base` (Http2Stream.prototype). `before` runs ahead of any decision (the
 * respond a trusted caller's claim needs first).
 */
function lockStreamWrites(base: object, gate: StreamGate, patcher: Patcher, before: (stream: FlowStream) => void): void {
  const allowed = (stream: FlowStream): Error | undefined => {
    before(stream);
    return gate.allowed(stream, undefined, true) ? undefined : (stream[STREAM_FLOW]?.denial ?? new Error('provenant: write refused'));
  };
  decideOtherStreamWrites({
    carries: (writable) => (writable as FlowStream)[STREAM_FLOW] !== undefined,
    decide(writable, chunk) {
      const stream = writable as FlowStream;
      const error = gate.refusing.active ? undefined : allowed(stream);
      if (error === undefined) admittedOf(stream).add(chunk);
      return error;
    },
  });
  patcher.onRestore(() => decideOtherStreamWrites(undefined));
  const methods = base as Record<'_write' | '_writev', StreamWrite>;
  const lock = (name: '_write' | '_writev', writev: boolean): void => {
    const original = methods[name];
    if (typeof original !== 'function') return;
    patcher.lock(methods, name, function (this: FlowStream, ...args: unknown[]): unknown {
      if (this[STREAM_FLOW] === undefined) return original.apply(this, args);
      lockHandle(this, gate, patcher);
      const cb = args[writev ? 1 : 2];
      if (!admittedOf(this).take(writev, args[0], true) && !gate.refusing.active) {
        const error = allowed(this);
        if (error !== undefined) {
          if (typeof cb === 'function') process.nextTick(cb, error);
          return undefined;
        }
      }
      const outer = pass.stream;
      pass.stream = this;
      try {
        return original.apply(this, args);
      } finally {
        pass.stream = outer;
      }
    });
  };
  lock('_write', false);
  lock('_writev', true);
}

/** Locks the write methods of the stream handles' prototype, from a stream that has its handle. */
export function lockHandle(stream: FlowStream, gate: StreamGate, patcher: Patcher): void {
  if (handleLocked) return;
  kHandle ??= Object.getOwnPropertySymbols(stream).find((key) => key.description === 'kHandle');
  const handle: unknown = kHandle === undefined ? undefined : (stream as unknown as Record<symbol, unknown>)[kHandle];
  if (typeof handle !== 'object' || handle === null) {
    // A client stream gets its handle once its session is connected: it emits 'ready' then.
    stream.once('ready', () => lockHandle(stream, gate, patcher));
    return;
  }
  handleLocked = true;
  const proto = Object.getPrototypeOf(handle) as Record<string, HandleWrite>;
  for (const name of HANDLE_WRITES) {
    const original = proto[name];
    if (typeof original !== 'function' || !Object.hasOwn(proto, name)) continue;
    patcher.lock(proto, name, function (this: object, ...args: unknown[]): unknown {
      const owner = handleOwner(this) as FlowStream | undefined;
      if (owner !== undefined && owner === pass.stream) return original.apply(this, args);
      if (owner === undefined || owner[STREAM_FLOW] === undefined) return original.apply(this, args);
      return gate.allowed(owner, undefined, true) ? original.apply(this, args) : HANDLE_DENIED;
    });
  }
}

function admittedOf(stream: FlowStream): AdmittedChunks {
  let chunks = admitted.get(stream);
  if (chunks === undefined) admitted.set(stream, (chunks = new AdmittedChunks()));
  return chunks;
}
