/**
 * UDP (`dgram`): every datagram sent is a write flow to `udp://host:port`, decided with the
 * sending context before it is handed to the socket; a denied send calls its callback with the
 * ProvenanceDeniedError (or emits it as 'error' when there is none) and nothing is sent. A
 * connected socket's `connect` is decided the same way, and its later sends are re-decided. Each
 * received datagram (`'message'`) is a read from its sender. Host literals are canonical
 * (`127.3` is 127.0.0.3); a host name is decided as named, not by the address Node resolves.
 */
import dgram from 'node:dgram';
import type { Attributes } from '@opentelemetry/api';
import type { FlowEngine } from '../../engine/flow-engine.js';
import type { Resource } from '../../provenance/resource.js';
import { normaliseHost } from '../../provenance/host.js';
import type { Instrumentation, InstrumentationContext } from '../instrumentation.js';
import { withInternalLookups } from '../internal-lookups.js';
import { Patcher } from '../patcher.js';

const CONNECTED_TO = Symbol('provenant.udpPeer');

type FlowSocket = dgram.Socket & { [CONNECTED_TO]?: Resource; type?: string };
type Method = (this: FlowSocket, ...args: unknown[]) => unknown;

export class DgramInstrumentation implements Instrumentation {
  readonly name = 'dgram';
  private readonly patcher = new Patcher();

  enable(context: InstrumentationContext): void {
    enableDatagramFlows(context.engine, this.patcher);
  }

  disable(): void {
    this.patcher.restoreAll();
  }
}

function enableDatagramFlows(engine: FlowEngine, patcher: Patcher): void {
  const proto = dgram.Socket.prototype as unknown as Record<'send' | 'connect' | 'disconnect' | 'bind' | 'emit', Method>;

  const peer = (socket: FlowSocket, host: unknown, port: unknown): Resource => {
    const fallback = socket.type === 'udp6' ? '::1' : '127.0.0.1';
    return engine.resources.udp(normaliseHost(typeof host === 'string' && host !== '' ? host : fallback), Number(port));
  };

  const denial = (resource: Resource): Error | undefined => {
    const attributes: Attributes = { 'server.address': resource.host ?? '', 'server.port': resource.port ?? 0, 'network.transport': 'udp' };
    const decision = engine.authorizeWrite(resource, undefined, { attributes });
    return decision.kind === 'deny' ? engine.deniedError(decision, resource) : undefined;
  };

  /** The error goes where the API reports send errors: the callback, else the socket's 'error'. */
  const fail = (socket: FlowSocket, error: Error, callback: unknown): void => {
    if (typeof callback === 'function') process.nextTick(callback, error);
    else process.nextTick(() => socket.emit('error', error));
  };

  patcher.wrap(
    proto,
    'send',
    (send) =>
      function (this: FlowSocket, ...args: unknown[]): unknown {
        const resource = this[CONNECTED_TO] ?? destinationOf(this, args, peer);
        const error = resource === undefined ? undefined : denial(resource);
        if (error === undefined) return withInternalLookups(() => send.apply(this, args));
        fail(
          this,
          error,
          args.findLast((arg) => typeof arg === 'function'),
        );
        return undefined;
      },
  );

  patcher.wrap(
    proto,
    'connect',
    (connect) =>
      function (this: FlowSocket, ...args: unknown[]): unknown {
        const [port, address] = args;
        const resource = peer(this, typeof address === 'string' ? address : undefined, port);
        const error = denial(resource);
        if (error === undefined) {
          this[CONNECTED_TO] = resource;
          return withInternalLookups(() => connect.apply(this, args));
        }
        fail(
          this,
          error,
          args.findLast((arg) => typeof arg === 'function'),
        );
        return undefined;
      },
  );

  // bind looks up the local address it is given: not a query of the app's.
  patcher.wrap(
    proto,
    'bind',
    (bind) =>
      function (this: FlowSocket, ...args: unknown[]): unknown {
        return withInternalLookups(() => bind.apply(this, args));
      },
  );

  patcher.wrap(
    proto,
    'disconnect',
    (disconnect) =>
      function (this: FlowSocket, ...args: unknown[]): unknown {
        const result = disconnect.apply(this, args);
        delete this[CONNECTED_TO];
        return result;
      },
  );

  patcher.wrap(
    proto,
    'emit',
    (emit) =>
      function (this: FlowSocket, ...args: unknown[]): unknown {
        if (args[0] === 'message') {
          const message = args[1] as { length?: number } | undefined;
          const sender = args[2] as { address?: string; port?: number } | undefined;
          if (sender?.address !== undefined) {
            const resource = engine.resources.udp(normaliseHost(sender.address), sender.port ?? 0);
            engine.read(resource, message?.length, {
              attributes: { 'network.peer.address': sender.address, 'network.peer.port': sender.port ?? 0, 'network.transport': 'udp' },
            });
          }
        }
        return emit.apply(this, args);
      },
  );
}

/** Where an unconnected send goes, following dgram's argument rules (with or without offset and length). */
function destinationOf(
  socket: FlowSocket,
  args: readonly unknown[],
  peer: (socket: FlowSocket, host: unknown, port: unknown) => Resource,
): Resource | undefined {
  const [, offset, length, port, address] = args;
  if (address !== undefined || (port !== undefined && typeof port !== 'function')) return peer(socket, address, port);
  // send(msg, port[, address][, callback])
  if (offset === undefined || typeof offset === 'function') return undefined;
  return peer(socket, typeof length === 'string' ? length : undefined, offset);
}
