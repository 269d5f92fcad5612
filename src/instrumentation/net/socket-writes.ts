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
 * 3. The stream handles' write methods (LibuvStreamWrap for TCP, Pipe and TTY; TLSWrap): the one
 *    call `_writeGeneric` makes for the chunk it let through passes; any other (the app calling
 *    `socket._handle.writeUtf8String` itself) is decided for the socket owning the handle, and a
 *    TCP handle no socket owns (made through `process.binding('tcp_wrap')`) is an unlabelled
 *    destination named by its descriptor, so labelled data never leaves through it.
 *
 * Each is locked (Patcher.lock): it can be neither redefined nor deleted, assigning it on the
 * prototype has no effect, and the originals are reachable only from here. Locked properties
 * outlive `disable`, so the wrappers read the live decisions from this module and only call
 * through while provenant is off. They are locked once per realm, by the one bundled copy of
 * provenant; another copy would fail to start here rather than run without them.
 */
import { Buffer } from 'node:buffer';
import net from 'node:net';
import os from 'node:os';
import stream from 'node:stream';
import type { Patcher } from '../patcher.js';
import { flowOf, nameTcpDescriptors, noteDescriptorHandle, type FlowSocket, type SocketDecisions } from './socket-flow.js';
import { endsWithChunk, failCallback } from './write-args.js';

type StreamWrite = (this: unknown, chunk: unknown, encoding: unknown, callback: unknown) => unknown;
type WriteCallback = (error?: Error | null) => void;
type WriteGeneric = (this: FlowSocket, writev: boolean, data: unknown, encoding: unknown, cb: WriteCallback) => unknown;
/** (req, data, send handle) or writev's (req, chunks, all buffers). */
type HandleWrite = (this: object, req: unknown, payload: unknown, extra: unknown) => number;
type HandleOpen = (this: object, fd: unknown) => unknown;
type Bindings = { binding?: (name: string) => Record<string, { prototype: object } | undefined> };

const HANDLE_WRITES = ['writeBuffer', 'writeUtf8String', 'writeAsciiString', 'writeLatin1String', 'writeUcs2String', 'writev'] as const;
/** What a denied handle write returns: a libuv error code, as a failed write would. */
const DENIED = -os.constants.errno.EPERM;

/** The live decisions; undefined while provenant is disabled. */
let live: SocketDecisions | undefined;
let locked = false;

/**
 * The one handle write the running `_writeGeneric` lets through: its socket and data. Cleared by
 * that write, so app code running in between (an accessor it defined for `_handle`) gets no pass.
 */
const pass: { socket: FlowSocket | undefined; data: unknown; encoding: unknown } = {
  socket: undefined,
  data: undefined,
  encoding: undefined,
};

/** The handles' owner_symbol (Node's private link from a handle to its socket), found on the first owned handle. */
let ownerSymbol: symbol | undefined;
let TcpHandle: { prototype: object } | undefined;

export function enableSocketWrites(decisions: SocketDecisions, patcher: Patcher): void {
  live = decisions;
  nameTcpDescriptors((handle) =>
    TcpHandle !== undefined && handle instanceof (TcpHandle as unknown as new () => object)
      ? decisions.engine.resources.descriptor((handle as { fd?: number }).fd ?? -1)
      : undefined,
  );
  patcher.onRestore(() => {
    live = undefined;
    nameTcpDescriptors(undefined);
  });
  if (locked) return;
  locked = true;
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
  // process.binding is the one public way to the handle classes before any socket exists (it
  // warns only under --pending-deprecation); the app reaches the same prototypes through it.
  const bindings = (process as unknown as Bindings).binding;
  TcpHandle = bindings?.('tcp_wrap')['TCP'];
  const streamProto = TcpHandle === undefined ? undefined : (Object.getPrototypeOf(TcpHandle.prototype) as object | null);
  const tlsProto = bindings?.('tls_wrap')['TLSWrap']?.prototype;
  // `open(fd)` is how Node wraps a descriptor in a TCP or Pipe handle (`new net.Socket({ fd })`).
  for (const Handle of [TcpHandle, bindings?.('pipe_wrap')['Pipe']]) {
    const proto = Handle?.prototype as Record<'open', HandleOpen> | undefined;
    if (proto !== undefined && Object.hasOwn(proto, 'open')) patcher.lock(proto, 'open', descriptorOpen(proto.open));
  }
  for (const proto of [streamProto, tlsProto]) {
    if (proto === undefined || proto === null) continue;
    const methods = proto as Record<string, HandleWrite>;
    for (const name of HANDLE_WRITES) {
      const original = methods[name];
      if (original !== undefined && Object.hasOwn(methods, name)) patcher.lock(methods, name, handleWrite(original, name === 'writev'));
    }
  }
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
    if (flow === undefined || live === undefined || !carriesChunk(chunk)) return original.call(this, chunk, encoding, callback);
    const socket = this as FlowSocket;
    const error = live.writeError(flow);
    if (error !== undefined) {
      live.destroyWithDenial(socket, error);
      failCallback([chunk, encoding, callback], error);
      return deniedResult(socket);
    }
    // Node turns a Uint8Array into a Buffer before buffering it: done here, so the chunk flushed is the one admitted.
    const admitted =
      chunk instanceof Uint8Array && !Buffer.isBuffer(chunk) ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) : chunk;
    // A chunk written to a destroyed or ended socket is refused by Node, never flushed: nothing to admit.
    if (!socket.destroyed && !socket.writableEnded) flow.admitted.add(admitted);
    return original.call(this, admitted, encoding, callback);
  };
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

function handleWrite(original: HandleWrite, vector: boolean): HandleWrite {
  return function (this: object, req, payload, extra) {
    // The write `_writeGeneric` just let through (set only while provenant is on): checked first, it is nearly every write.
    const socket = pass.socket;
    if (socket !== undefined && (payload === pass.data || passes(payload, vector)) && ownerOf(this) === socket) {
      pass.socket = undefined;
      return original.call(this, req, payload, extra);
    }
    return live === undefined ? original.call(this, req, payload, extra) : decideHandleWrite(live, this, original, req, payload, extra);
  };
}

/** Notes a handle opened around a descriptor the app holds (stdio, 0-2, stays with the stdio gate). */
function descriptorOpen(original: HandleOpen): HandleOpen {
  return function (this: object, fd) {
    const result = original.call(this, fd);
    if (live !== undefined && result === 0 && typeof fd === 'number' && fd > 2)
      noteDescriptorHandle(this, live.engine.resources.descriptor(fd));
    return result;
  };
}

/** A handle write nothing above decided: for the socket owning the handle, or, for a TCP handle no socket owns, its descriptor. */
function decideHandleWrite(
  decisions: SocketDecisions,
  handle: object,
  original: HandleWrite,
  req: unknown,
  payload: unknown,
  extra: unknown,
): number {
  const owner = ownerOf(handle);
  if (owner !== undefined) {
    const flow = flowOf(owner as FlowSocket);
    // A socket provenant does not mediate as a flow (stdio, a child's pipes) is decided where its stream is.
    const error = flow === undefined ? undefined : decisions.writeError(flow);
    if (error === undefined) return original.call(handle, req, payload, extra);
    decisions.destroyWithDenial(owner as FlowSocket, error);
    return DENIED;
  }
  if (TcpHandle === undefined || !(handle instanceof (TcpHandle as unknown as new () => object)))
    return original.call(handle, req, payload, extra);
  const resource = decisions.engine.resources.descriptor((handle as { fd?: number }).fd ?? -1);
  const decision = decisions.engine.authorizeWrite(resource, undefined, { attributes: { 'network.transport': 'tcp' } });
  return decision.kind === 'deny' ? DENIED : original.call(handle, req, payload, extra);
}

/** Whether a handle write carries the data `_writeGeneric` let through, when it is not the same value (writev, a converted string). */
function passes(payload: unknown, vector: boolean): boolean {
  const data = pass.data;
  if (vector) {
    // writevGeneric flattens the entries to [chunk, encoding, ...] (all Buffers: rewrites them in place, same array).
    if (!Array.isArray(payload) || !Array.isArray(data) || payload.length !== data.length * 2) return false;
    return (data as readonly ({ chunk?: unknown } | null)[]).every((entry, i) => payload[i * 2] === entry?.chunk);
  }
  // A string in an encoding the handle has no method for (hex, base64) reaches it converted.
  return (
    typeof data === 'string' &&
    Buffer.isBuffer(payload) &&
    typeof pass.encoding === 'string' &&
    Buffer.isEncoding(pass.encoding) &&
    payload.equals(Buffer.from(data, pass.encoding))
  );
}

function ownerOf(handle: object): object | undefined {
  ownerSymbol ??= Object.getOwnPropertySymbols(handle).find((key) => key.description === 'owner_symbol');
  if (ownerSymbol === undefined) return undefined;
  const owner = (handle as Record<symbol, unknown>)[ownerSymbol];
  return typeof owner === 'object' && owner !== null ? owner : undefined;
}
