/**
 * Frames an HTTP/2 session sends besides its streams can carry the app's data to the peer: a
 * PING's 8-byte payload, GOAWAY's opaque data, custom SETTINGS values, a server's ALTSVC and
 * ORIGIN frames. Each call that carries such data is decided with the calling context as a write
 * to where the session goes (a client's origin and the address its socket dialled, a server's
 * caller by address); a denial is thrown and no frame is sent.
 */
import type http2 from 'node:http2';
import type { Resource } from '../../provenance/resource.js';
import type { Patcher } from '../patcher.js';
import type { StreamGate } from './stream-gate.js';

type Frame = (this: http2.Http2Session, ...args: unknown[]) => unknown;

/** Whether a call's arguments carry the app's data (a frame with nothing of the app's is not a flow). */
const CARRIES: Record<string, (args: unknown[]) => boolean> = {
  ping: (args) => ArrayBuffer.isView(args[0]),
  goaway: (args) => ArrayBuffer.isView(args[2]) && args[2].byteLength > 0,
  settings: (args) => {
    const custom = (args[0] as { customSettings?: unknown } | null | undefined)?.customSettings;
    return typeof custom === 'object' && custom !== null && Object.keys(custom).length > 0;
  },
  altsvc: () => true,
  origin: () => true,
};

/** Patch the frame methods of `session`'s prototype chain (once each); `peers` names where a session goes. */
export function patchSessionFrames(
  gate: StreamGate,
  patcher: Patcher,
  session: http2.Http2Session,
  peers: (session: http2.Http2Session) => readonly Resource[],
  patched: WeakSet<object>,
): void {
  for (let proto = Object.getPrototypeOf(session) as object | null; proto !== null; proto = Object.getPrototypeOf(proto) as object | null) {
    for (const [name, carries] of Object.entries(CARRIES)) {
      const own = Object.getOwnPropertyDescriptor(proto, name)?.value as unknown;
      if (typeof own !== 'function' || patched.has(own)) continue;
      const holder = proto as Record<string, Frame>;
      patcher.wrap(
        holder,
        name,
        (original) =>
          function (this: http2.Http2Session, ...args: unknown[]): unknown {
            if (carries(args)) {
              const attributes = { 'network.protocol.name': 'http', 'network.protocol.version': '2', 'http2.frame': name };
              for (const resource of peers(this)) {
                const error = gate.denial(resource, attributes);
                if (error) throw error;
              }
            }
            return original.apply(this, args);
          },
      );
      patched.add(holder[name]);
    }
  }
}
