/**
 * UDP (`dgram`): every datagram sent is a write flow to `udp://host:port`, decided with the
 * sending context before it is handed to the socket; a denied send calls its callback with the
 * ProvenanceDeniedError (or emits it as 'error' when there is none) and nothing is sent. A
 * connected socket's `connect` is decided the same way, and its later sends are re-decided. Each
 * received datagram (`'message'`) is a read from its sender. Host literals are canonical
 * (`127.3` is 127.0.0.3). A host name is decided as named, then resolved here (with the
 * `lookup` the app gave `createSocket`, else `dns.lookup`) and decided again as the address it
 * resolves to — a rule on either matches — and the datagram is handed to dgram with that address,
 * so dgram does not resolve the name again (no second answer can differ from the one decided).
 * Patched when `node:dgram` is first loaded, not at preload (builtin-loads.ts); the UDP handle's
 * own send below it is decided too (handle-sends.ts).
 */
import type dgram from 'node:dgram';
import type { Attributes } from '@opentelemetry/api';
import type { FlowEngine } from '../../engine/flow-engine.js';
import type { Resource } from '../../provenance/resource.js';
import { normaliseHost } from '../../provenance/host.js';
import { isIpAddress } from '../../support/host-address.js';
import type { Instrumentation, InstrumentationContext } from '../instrumentation.js';
import { withInternalLookups } from '../internal-lookups.js';
import { Patcher } from '../patcher.js';
import { whenBuiltinLoaded } from '../builtin-loads.js';
import { enableHandleSends, noteAllowedSend } from './handle-sends.js';

const CONNECTED_TO = Symbol('provenant.udpPeer');
const APP_LOOKUP = Symbol('provenant.udpLookup');

type LookupCallback = (error: Error | null, address: string, family?: number) => void;
type Lookup = (hostname: string, family: number, callback: LookupCallback) => void;
/** A connected socket's destinations: the name it connected to and the address it resolved to. */
type FlowSocket = dgram.Socket & { [CONNECTED_TO]?: Resource[]; [APP_LOOKUP]?: Lookup; type?: string };

/** Where an unconnected send goes: its resource, and the position of its address argument. */
interface Destination {
  readonly resource: Resource;
  readonly addressIndex: number;
}
type Method = (this: FlowSocket, ...args: unknown[]) => unknown;

export class DgramInstrumentation implements Instrumentation {
  readonly name = 'dgram';
  private readonly patcher = new Patcher();

  enable(context: InstrumentationContext): void {
    enableHandleSends(context.engine, this.patcher);
    whenBuiltinLoaded(this.patcher, 'dgram', (loaded) => enableDatagramFlows(loaded as typeof dgram, context.engine, this.patcher));
  }

  disable(): void {
    this.patcher.restoreAll();
  }
}

function enableDatagramFlows(udp: typeof dgram, engine: FlowEngine, patcher: Patcher): void {
  const proto = udp.Socket.prototype as unknown as Record<'send' | 'connect' | 'disconnect' | 'bind' | 'emit', Method>;

  // The app's own lookup is where dgram would resolve names: provenant resolves with it instead.
  patcher.wrap(
    udp as unknown as Record<'createSocket', (...args: unknown[]) => FlowSocket>,
    'createSocket',
    (createSocket) =>
      function (this: unknown, ...args: unknown[]): FlowSocket {
        const socket = createSocket.apply(this, args);
        const lookup = (args[0] as { lookup?: unknown } | null | undefined)?.lookup;
        if (typeof lookup === 'function') socket[APP_LOOKUP] = lookup as Lookup;
        return socket;
      },
  );

  /**
   * When `resource` names a host (not an address), resolve it as dgram would, decide the address,
   * and run `proceed` with it; else run `proceed` with the host as given. Errors go to `failed`.
   */
  const resolved = (
    socket: FlowSocket,
    resource: Resource,
    proceed: (address: string | undefined, addressed: Resource | undefined) => void,
    failed: (error: Error) => void,
  ): void => {
    const host = resource.host ?? '';
    if (isIpAddress(host)) return proceed(undefined, undefined);
    const lookup: Lookup =
      socket[APP_LOOKUP] ?? ((name, family, callback) => process.getBuiltinModule('node:dns').lookup(name, family, callback));
    withInternalLookups(() =>
      lookup(host, socket.type === 'udp6' ? 6 : 4, (error, address) => {
        if (error) return failed(error);
        const addressed = peer(socket, address, resource.port);
        const denied = denial(addressed);
        if (denied) return failed(denied);
        proceed(address, addressed);
      }),
    );
  };

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
        const callback = args.findLast((arg) => typeof arg === 'function');
        const connected = this[CONNECTED_TO];
        if (connected !== undefined) {
          const error = connected.map(denial).find((denied) => denied !== undefined);
          if (error === undefined) {
            noteAllowedSend(engine, handleOf(this), connected);
            return send.apply(this, args);
          }
          fail(this, error, callback);
          return undefined;
        }
        const destination = destinationOf(this, args, peer);
        const error = destination === undefined ? undefined : denial(destination.resource);
        if (error !== undefined) {
          fail(this, error, callback);
          return undefined;
        }
        if (destination === undefined) return withInternalLookups(() => send.apply(this, args));
        resolved(
          this,
          destination.resource,
          (address, addressed) => {
            noteAllowedSend(engine, handleOf(this), [addressed ?? destination.resource]);
            const given = [...args];
            if (address !== undefined) given[destination.addressIndex] = address;
            withInternalLookups(() => send.apply(this, given));
          },
          (failure) => fail(this, failure, callback),
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
        const callback = args.findLast((arg) => typeof arg === 'function');
        const error = denial(resource);
        if (error !== undefined) {
          fail(this, error, callback);
          return undefined;
        }
        resolved(
          this,
          resource,
          (address, addressed) => {
            this[CONNECTED_TO] = addressed === undefined ? [resource] : [resource, addressed];
            withInternalLookups(() => connect.apply(this, address === undefined ? args : [port, address, ...args.slice(2)]));
          },
          (failure) => fail(this, failure, callback),
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

/** dgram's private state symbol, found on the first socket. */
let stateSymbol: symbol | undefined;

/** The UDP handle under a dgram socket (in its private state). */
function handleOf(socket: FlowSocket): object | undefined {
  stateSymbol ??= Object.getOwnPropertySymbols(socket).find((key) => key.description === 'state symbol');
  const state: unknown = stateSymbol === undefined ? undefined : (socket as unknown as Record<symbol, unknown>)[stateSymbol];
  const handle: unknown = typeof state === 'object' && state !== null ? (state as { handle?: unknown }).handle : undefined;
  return typeof handle === 'object' && handle !== null ? handle : undefined;
}

/** Where an unconnected send goes, following dgram's argument rules (with or without offset and length). */
function destinationOf(
  socket: FlowSocket,
  args: readonly unknown[],
  peer: (socket: FlowSocket, host: unknown, port: unknown) => Resource,
): Destination | undefined {
  const [, offset, length, port, address] = args;
  if (address !== undefined || (port !== undefined && typeof port !== 'function')) {
    return { resource: peer(socket, address, port), addressIndex: 4 };
  }
  // send(msg, port[, address][, callback])
  if (offset === undefined || typeof offset === 'function') return undefined;
  return { resource: peer(socket, typeof length === 'string' ? length : undefined, offset), addressIndex: 2 };
}
