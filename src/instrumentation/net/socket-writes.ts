/**
 * Every write on a mediated socket is decided before its bytes are queued, at the three levels
 * every path to the wire crosses (README coverage table, `net.connect…`):
 *
 * 1. Where bytes enter a stream: `Writable.prototype.write`/`end` and `Duplex.prototype`'s own
 *    copies of them (what `socket.write`, `Writable.prototype.write.call(socket)`, `pipe` and
 *    `pipeline` all call). Decided with the writer's context; an allowed chunk is admitted.
 * 2. `net.Socket.prototype._writeGeneric`, where `_write`, `_writev`, the flush of chunks Node
 *    buffered (cork/uncork, a write still in progress) and the write deferred until connect meet.
 *    Admitted chunks pass, whatever context Node flushes them in; any other chunk (the app calling
 *    `_write`, `_writev` or `_writeGeneric` itself) is decided with the calling context.
 * 3. The stream handles' write methods (handle-writes.ts): the one call `_writeGeneric` makes for
 *    the chunk it let through passes; any other is decided for the socket owning the handle, or,
 *    on a handle no socket owns, for the IPC peer or the handle's descriptor.
 *
 * Each is locked (Patcher.lock): it can be neither redefined nor deleted, assigning it on the
 * prototype has no effect, and the originals are reachable only from here. Locked properties
 * outlive `disable`, so the wrappers read the live decisions from this module and only call
 * through while provenant is off. They are locked once per realm, by the one bundled copy of
 * provenant; another copy would fail to start here rather than run without them.
 */
import { Buffer } from 'node:buffer';
import type { Patcher } from '../patcher.js';
import { enableHandleWrites, pass } from './handle-writes.js';
import { flowOf, type FlowSocket, type SocketDecisions } from './socket-flow.js';
import { endsWithChunk, failCallback } from './write-args.js';

type StreamWrite = (this: unknown, chunk: unknown, encoding: unknown, callback: unknown) => unknown;
type WriteCallback = (error?: Error | null) => void;
type WriteGeneric = (this: FlowSocket, writev: boolean, data: unknown, encoding: unknown, cb: WriteCallback) => unknown;

/** The live decisions; undefined while provenant is disabled. */
let live: SocketDecisions | undefined;
let locked = false;

export function enableSocketWrites(decisions: SocketDecisions, patcher: Patcher): void {
  live = decisions;
  patcher.onRestore(() => {
    live = undefined;
  });
  enableHandleWrites(decisions, patcher);
  if (locked) return;
  locked = true;
  // Loaded by now: the network part is enabled as the first of them loads (net/index.ts).
  const stream = process.getBuiltinModule('node:stream');
  const net = process.getBuiltinModule('node:net');
  for (const proto of [stream.Writable.prototype, stream.Duplex.prototype] as unknown as Record<'write' | 'end', StreamWrite>[]) {
    patcher.lock(
      proto,
      'write',
      entry(
        proto.write,
        () => true,
        () => false,
      ),
    );
    patcher.lock(
      proto,
      'end',
      entry(
        proto.end,
        (chunk) => endsWithChunk([chunk]),
        (socket) => socket,
      ),
    );
  }
  const socketProto = net.Socket.prototype as unknown as { _writeGeneric: WriteGeneric };
  patcher.lock(socketProto, '_writeGeneric', writeGeneric(socketProto._writeGeneric));
}

/**
 * `write`/`end` of every Writable: on a mediated socket, decided with the writer's context; the
 * chunk admitted. Both take at most (chunk, encoding, callback): named, not spread, since this
 * runs on every write of every stream.
 */
function entry(
  original: StreamWrite,
  carriesChunk: (chunk: unknown) => boolean,
  deniedResult: (socket: FlowSocket) => unknown,
): StreamWrite {
  return function (this: unknown, chunk, encoding, callback) {
    const self = this as FlowSocket | null | undefined;
    const flow = live === undefined || self === null || self === undefined ? undefined : flowOf(self);
    if (flow === undefined || live === undefined || !carriesChunk(chunk)) {
      if (otherStreams === undefined || self === null || self === undefined || !carriesChunk(chunk) || !otherStreams.carries(self))
        return original.call(this, chunk, encoding, callback);
      const admitted = asBuffered(chunk);
      const error = otherStreams.decide(self, admitted);
      if (error === undefined) return original.call(this, admitted, encoding, callback);
      failCallback([chunk, encoding, callback], error);
      return deniedResult(self);
    }
    const socket = this as FlowSocket;
    const error = live.writeError(flow);
    if (error !== undefined) {
      live.destroyWithDenial(socket, error);
      failCallback([chunk, encoding, callback], error);
      return deniedResult(socket);
    }
    const admitted = asBuffered(chunk);
    // A chunk written to a destroyed or ended socket is refused by Node, never flushed: nothing to admit.
    if (!socket.destroyed && !socket.writableEnded) flow.admitted.add(admitted);
    return original.call(this, admitted, encoding, callback);
  };
}

/** Node turns a Uint8Array into a Buffer before buffering it: done here, so the chunk flushed is the one admitted. */
function asBuffered(chunk: unknown): unknown {
  return chunk instanceof Uint8Array && !Buffer.isBuffer(chunk) ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) : chunk;
}

/**
 * Another instrumentation's streams that are not sockets but carry its flow (HTTP/2 streams,
 * http2/stream-writes.ts): which streams, and the error when `chunk` may not enter one (it admits
 * the chunk otherwise). Undefined while none is registered.
 */
export interface OtherStreamWrites {
  carries(stream: object): boolean;
  decide(stream: object, chunk: unknown): Error | undefined;
}

let otherStreams: OtherStreamWrites | undefined;

export function decideOtherStreamWrites(streams: OtherStreamWrites | undefined): void {
  otherStreams = streams;
}

function writeGeneric(original: WriteGeneric): WriteGeneric {
  return function (this: FlowSocket, writev, data, encoding, cb) {
    const flow = live === undefined ? undefined : flowOf(this);
    if (flow === undefined || live === undefined) return original.call(this, writev, data, encoding, cb);
    // While connecting, Node calls this again on 'connect' with the same data: admitted until then.
    const connecting = this.connecting;
    if (!flow.admitted.take(writev, data, !connecting)) {
      const error = live.writeError(flow);
      if (error !== undefined) {
        live.destroyWithDenial(this, error);
        process.nextTick(cb, error);
        return undefined;
      }
      if (connecting) flow.admitted.addAll(writev, data);
    }
    const { socket: outerSocket, data: outerData, encoding: outerEncoding } = pass;
    pass.socket = this;
    pass.data = data;
    pass.encoding = encoding;
    try {
      return original.call(this, writev, data, encoding, cb);
    } finally {
      pass.socket = outerSocket;
      pass.data = outerData;
      pass.encoding = outerEncoding;
    }
  };
}
