/**
 * Node's native handles as the write locks see them (net/handle-writes.ts, http2/stream-writes.ts,
 * dgram/handle-sends.ts): the stream-base write methods, what a refused write returns, the socket
 * or stream that owns a handle, and the handle classes behind `process.binding`.
 */
import os from 'node:os';

/** The write methods every stream-base handle has (TCP, Pipe, TTY, TLSWrap, an HTTP/2 stream). */
export const HANDLE_WRITES = [
  'writeBuffer',
  'writeUtf8String',
  'writeAsciiString',
  'writeLatin1String',
  'writeUcs2String',
  'writev',
] as const;

/** What a refused handle write or send returns: a libuv error code, as a failed one would (Node reports it to the callback). */
export const HANDLE_DENIED = -os.constants.errno.EPERM;

type Bindings = { binding?: (name: string) => Record<string, { prototype: object } | undefined> };

/**
 * A handle class of one of Node's bindings (`process.binding('tcp_wrap').TCP`): the one public way
 * to a handle prototype before any handle exists (it warns only under --pending-deprecation); the
 * app reaches the same prototypes through it.
 */
export function bindingClass(binding: string, name: string): { prototype: object } | undefined {
  return (process as unknown as Bindings).binding?.(binding)[name];
}

/** Node's private owner_symbol, found on the first owned handle. */
let ownerSymbol: symbol | undefined;

/** The socket or stream that owns `handle` (Node's owner_symbol link), if any. */
export function handleOwner(handle: object): object | undefined {
  ownerSymbol ??= Object.getOwnPropertySymbols(handle).find((key) => key.description === 'owner_symbol');
  const owner: unknown = ownerSymbol === undefined ? undefined : (handle as Record<symbol, unknown>)[ownerSymbol];
  return typeof owner === 'object' && owner !== null ? owner : undefined;
}
