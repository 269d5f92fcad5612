/**
 * The third level of socket-writes.ts: the stream handles' write methods (LibuvStreamWrap for TCP,
 * Pipe and TTY; TLSWrap), locked. The one call `_writeGeneric` makes for the chunk it let through
 * passes; any other (the app calling `socket._handle.writeUtf8String` itself, a method taken from
 * the prototype) is decided for the socket owning the handle; on a handle no socket owns, as a
 * message to the process at the other end of Node's IPC channel (process/ipc-channel.ts), else as
 * a flow to the handle's descriptor, an unlabelled destination, so labelled data never leaves
 * through a handle the app made (`process.binding('tcp_wrap')`, `'pipe_wrap'`, re-prototyped).
 * Also the TCP and Pipe `open(fd)` Node wraps a descriptor with, and how a handle no known socket
 * owns is named (socket-flow.ts).
 */
import { Buffer } from 'node:buffer';
import { bindingClass, HANDLE_DENIED, HANDLE_WRITES, handleOwner } from '../native-handles.js';
import type { Patcher } from '../patcher.js';
import { channelDecision } from '../process/ipc-channel.js';
import { flowOf, nameDescriptors, noteDescriptorHandle, type FlowSocket, type SocketDecisions } from './socket-flow.js';

/** (req, data, send handle) or writev's (req, chunks, all buffers). */
type HandleWrite = (this: object, req: unknown, payload: unknown, extra: unknown) => number;
type HandleOpen = (this: object, fd: unknown) => unknown;
type HandleClass = new () => object;

/** The live decisions; undefined while provenant is disabled. */
let live: SocketDecisions | undefined;
let locked = false;
let TcpHandle: HandleClass | undefined;
let PipeHandle: HandleClass | undefined;

/**
 * The one handle write the running `_writeGeneric` lets through: its socket and data. Cleared by
 * that write, so app code running in between (an accessor it defined for `_handle`) gets no pass.
 */
export const pass: { socket: FlowSocket | undefined; data: unknown; encoding: unknown } = {
  socket: undefined,
  data: undefined,
  encoding: undefined,
};

export function enableHandleWrites(decisions: SocketDecisions, patcher: Patcher): void {
  live = decisions;
  nameDescriptors((handle) => {
    const fd = descriptorNumber(handle);
    // A Pipe on 0-2 is this process's stdio (or the IPC channel serving as it), decided by the stdio gate.
    const stream = isA(handle, TcpHandle) || (isA(handle, PipeHandle) && (fd < 0 || fd > 2));
    return stream ? decisions.engine.resources.descriptor(fd) : undefined;
  });
  patcher.onRestore(() => {
    live = undefined;
    nameDescriptors(undefined);
  });
  if (locked) return;
  locked = true;
  TcpHandle = bindingClass('tcp_wrap', 'TCP') as HandleClass | undefined;
  PipeHandle = bindingClass('pipe_wrap', 'Pipe') as HandleClass | undefined;
  const streamProto = TcpHandle === undefined ? undefined : (Object.getPrototypeOf(TcpHandle.prototype) as object | null);
  const tlsProto = bindingClass('tls_wrap', 'TLSWrap')?.prototype;
  // `open(fd)` is how Node wraps a descriptor in a TCP or Pipe handle (`new net.Socket({ fd })`).
  for (const Handle of [TcpHandle, PipeHandle]) {
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

function handleWrite(original: HandleWrite, vector: boolean): HandleWrite {
  return function (this: object, req, payload, extra) {
    // The write `_writeGeneric` just let through (set only while provenant is on): checked first, it is nearly every write.
    const socket = pass.socket;
    if (socket !== undefined && (payload === pass.data || passes(payload, vector)) && handleOwner(this) === socket) {
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

/**
 * A handle write nothing above decided: for the socket owning the handle; on Node's IPC channel,
 * as a message to the process at its other end (process/ipc-channel.ts); on any other handle no
 * socket owns (made through `process.binding`), a flow to its descriptor, an unlabelled destination.
 */
function decideHandleWrite(
  decisions: SocketDecisions,
  handle: object,
  original: HandleWrite,
  req: unknown,
  payload: unknown,
  extra: unknown,
): number {
  const owner = handleOwner(handle);
  let error: Error | undefined;
  if (owner !== undefined) {
    const flow = flowOf(owner as FlowSocket);
    // A socket provenant does not mediate as a flow (stdio, a child's pipes) is decided where its stream is.
    error = flow === undefined ? undefined : decisions.writeError(flow);
    if (error !== undefined) decisions.destroyWithDenial(owner as FlowSocket, error);
  } else {
    const channel = channelDecision(handle);
    if (channel !== undefined) error = channel(payload);
    else {
      const resource = decisions.engine.resources.descriptor(descriptorNumber(handle));
      const decision = decisions.engine.authorizeWrite(resource, undefined, { attributes: { 'network.transport': 'fd' } });
      error = decision.kind === 'deny' ? decisions.engine.deniedError(decision, resource) : undefined;
    }
  }
  return error === undefined ? original.call(handle, req, payload, extra) : HANDLE_DENIED;
}

function descriptorNumber(handle: object): number {
  const fd = (handle as { fd?: unknown }).fd;
  return typeof fd === 'number' ? fd : -1;
}

function isA(handle: object, Handle: HandleClass | undefined): boolean {
  return Handle !== undefined && handle instanceof Handle;
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
