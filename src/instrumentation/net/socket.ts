/**
 * Every socket, at the prototype (README "What is covered", network): `net.Socket.prototype`'s
 * `connect` and `emit`, so nothing per instance can be reset or forgotten; its writes are decided
 * by socket-writes.ts, at the prototypes every write path crosses.
 *
 * - **Connect** is a write flow decided before the connection opens: to `tcp://host:port` (or
 *   `unix://path`), and again to the address actually dialled when the lookup Node calls (the
 *   app's `lookup` option or `dns.lookup`) resolves the name: a rule on either the name or the
 *   address matches. A reconnect is decided again. An HTTP client's socket is named by the origin the
 *   HTTP layer already decided (`http(s)://host:port`), so only a different target (a
 *   `createConnection` or `lookup` going elsewhere) is a second decision.
 * - **Every write** is decided with the writing context before the bytes are queued (socket-writes.ts),
 *   on every socket: raw clients, pooled keep-alive connections, sockets of
 *   app-provided dispatchers, `'upgrade'`/`'connect'` sockets, and accepted server sockets (to
 *   the caller by address). Bytes the HTTP layer writes for a message it already decided are not
 *   decided twice (mediated-writes.ts). A decision is memoised per socket for its context,
 *   provenance and policy epoch: a repeated write costs three compares and no allocation.
 * - **Reads**: `'data'` on a raw socket reads from its resource into the context.
 * - **Incoming connections** on a raw `net.Server`/`tls.Server` each get a flow context (like a
 *   request), in which the socket's events run; the caller is `tcp://<address>` without the
 *   ephemeral port. HTTP servers' connections are left to the HTTP instrumentation, except that
 *   raw writes to their sockets are decided too.
 *
 * Over 250 lines because connect and emit are patched on one prototype around one per-socket
 * state (the decided destination, the dialled address, the owning HTTP layer), set up here for
 * client and accepted sockets alike; socket-flow.ts holds that state and its write decision.
 */
import type net from 'node:net';
import type tls from 'node:tls';
import type { Attributes } from '@opentelemetry/api';
import type { FlowEngine } from '../../engine/flow-engine.js';
import type { FlowContext } from '../../provenance/context.js';
import type { Resource } from '../../provenance/resource.js';
import { normaliseHost } from '../../provenance/host.js';
import { ReentrancyGuard } from '../../support/reentrancy.js';
import { withInternalLookups } from '../internal-lookups.js';
import type { Patcher } from '../patcher.js';
import { applyIn, FLOW_CONTEXT } from './context-binding.js';
import type { GrpcTelemetry } from './grpc-telemetry.js';
import {
  flowOf,
  newSocketFlow,
  noteHandleFlow,
  sameDestination,
  SOCKET_FLOW,
  SocketDecisions,
  NO_FLOW,
  type FlowSocket,
  type SocketFlow,
} from './socket-flow.js';
import { enableSocketWrites } from './socket-writes.js';

/**
 * Connect option marking a socket of provenant's own fetch dispatcher, whose requests the
 * interceptor decides. A private symbol: an app cannot set it to skip a check.
 */
export const HTTP_SOCKET = Symbol('provenant.httpSocket');
/** On a server prototype whose connections an HTTP instrumentation handles (http2's servers). */
export const HTTP_SERVER = Symbol('provenant.httpServer');

/** The origin an HTTP client decided, while it creates the socket for it (set synchronously around the call). */
let httpOrigin: Resource | undefined;
/** Active while provenant's fetch dispatcher connects through tls.connect (which rebuilds the options). */
const dispatcherConnect = new ReentrancyGuard();
/** Active while the app's OTLP/HTTP exporter opens its connection (app-telemetry.ts): no flow at all (gRPC: grpc-telemetry.ts). */
const telemetryConnect = new ReentrancyGuard();

/** Run `fn` (which may create a socket) as the app's telemetry export: the socket is not mediated. */
export function asTelemetrySocket<T>(fn: () => T): T {
  return telemetryConnect.run(fn);
}

/** Run `fn` (which may create a socket) as the HTTP client of `origin`, a destination already decided. */
export function asHttpOwned<T>(origin: Resource, fn: () => T): T {
  const outer = httpOrigin;
  httpOrigin = origin;
  try {
    return fn();
  } finally {
    httpOrigin = outer;
  }
}

/**
 * A socket of provenant's fetch dispatcher upgraded to another protocol (a WebSocket): undici no
 * longer writes requests on it, the app writes messages, so every write is decided from now on.
 */
export function handOverUpgraded(socket: net.Socket): void {
  const flow = (socket as FlowSocket)[SOCKET_FLOW];
  if (flow !== undefined) flow.dispatcher = false;
}

/**
 * Where a socket really goes, as its connect decided it: the target it dialled and the address a
 * lookup resolved that to (empty for a socket provenant did not see connect). For protocols that
 * write below `socket.write` (HTTP/2's native session), to decide each request against them too.
 */
export function socketDestinations(socket: unknown): readonly Resource[] {
  const flow = typeof socket === 'object' && socket !== null ? flowOf(socket as FlowSocket) : undefined;
  if (flow === undefined) return [];
  return flow.dialled === undefined ? [flow.named] : [flow.named, flow.dialled];
}

type ConnectOptions = { host?: unknown; port?: unknown; path?: unknown; socket?: unknown; lookup?: unknown; [HTTP_SOCKET]?: unknown };
type LookupCallback = (error: Error | null, address: unknown, family?: unknown) => void;
type Lookup = (hostname: string, options: unknown, callback: LookupCallback) => void;
type Target = { host: string; port: number; path?: undefined } | { path: string; host?: undefined; port?: undefined };
type Method = (this: FlowSocket, ...args: unknown[]) => unknown;
type Emit = (this: FlowSocket, event: string | symbol, ...args: unknown[]) => boolean;
type ServerEmit = (this: unknown, event: string | symbol, ...args: unknown[]) => boolean;

export function enableSocketFlows(engine: FlowEngine, patcher: Patcher, grpc: GrpcTelemetry): void {
  // Loaded by now: the network part is enabled as the first of them loads (net/index.ts).
  const [net, tls, http, https, dns] = [
    process.getBuiltinModule('node:net'),
    process.getBuiltinModule('node:tls'),
    process.getBuiltinModule('node:http'),
    process.getBuiltinModule('node:https'),
    process.getBuiltinModule('node:dns'),
  ];
  const contexts = engine.contexts;
  const resources = engine.resources;
  const proto = net.Socket.prototype as unknown as Record<'connect' | 'emit', Method>;
  const decisions = new SocketDecisions(engine);
  const denied = (flow: SocketFlow, resource: Resource): Error | undefined => decisions.denied(flow, resource);
  enableSocketWrites(decisions, patcher);

  /**
   * `lookup` (the app's or dns.lookup) with every address it resolves decided before Node
   * connects to it; a denied address fails the lookup, so Node reports it the way it reports an
   * unresolvable name (asynchronously, after an HTTP client has attached its listeners).
   */
  const decidedLookup =
    (flow: SocketFlow, lookup: Lookup): Lookup =>
    (hostname, options, callback) =>
      lookup(hostname, options, (error, address, family) => {
        if (error || flow.addressed === undefined) return callback(error, address, family);
        const addresses = Array.isArray(address) ? address.map((entry: { address: unknown }) => entry.address) : [address];
        for (const each of addresses) {
          if (typeof each !== 'string') continue;
          const resource = flow.addressed(normaliseHost(each));
          if (resource === flow.named) continue;
          flow.dialled = resource;
          flow.ctx = undefined;
          const denial = denied(flow, resource);
          if (denial) return callback(denial, address, family);
        }
        return callback(error, address, family);
      });

  patcher.wrap(
    proto as unknown as { emit: Emit },
    'emit',
    (emit) =>
      function (this: FlowSocket, event: string | symbol): boolean {
        // Every event of every socket (each chunk read): `arguments` forwarded, no array unless the context switches.
        const flow = flowOf(this);
        if (flow === undefined) return Reflect.apply(emit, this, arguments) as boolean;
        const ctx = this[FLOW_CONTEXT];
        if (ctx === undefined || contexts.current() === ctx) {
          if (event === 'data' && flow.reads) readChunk(flow, arguments[1]);
          return Reflect.apply(emit, this, arguments) as boolean;
        }
        return event === 'data' && flow.reads ? readIn(ctx, flow, emit, this, arguments) : applyIn(contexts, ctx, emit, this, arguments);
      },
  );

  const readChunk = (flow: SocketFlow, chunk: unknown): void => {
    engine.read(flow.named, (chunk as { length?: number } | undefined)?.length, flow.options);
  };

  /** A chunk read and emitted in the socket's context (apart from the wrapper: see applyIn). */
  const readIn = (ctx: FlowContext, flow: SocketFlow, emit: Emit, socket: FlowSocket, args: IArguments): boolean =>
    contexts.runWith(ctx, () => {
      readChunk(flow, args[1]);
      return Reflect.apply(emit, socket, args) as boolean;
    });

  const clientFlow = (socket: FlowSocket, target: Target, origin: Resource | undefined, dispatcher: boolean): SocketFlow => {
    const attributes: Attributes = {};
    let named: Resource;
    let addressed: ((address: string) => Resource) | undefined;
    if (target.path !== undefined) {
      named = resources.unix(target.path);
      attributes['network.transport'] = 'unix';
      attributes['network.peer.address'] = target.path;
    } else {
      const { host, port } = target;
      const protocol =
        origin?.kind === 'http' || origin?.kind === 'https'
          ? origin.kind
          : dispatcher
            ? socket instanceof tls.TLSSocket
              ? 'https'
              : 'http'
            : undefined;
      addressed = protocol === undefined ? (address) => resources.tcp(address, port) : (address) => resources.http(protocol, address, port);
      named = addressed(host);
      attributes['server.address'] = host;
      attributes['server.port'] = port;
    }
    return newSocketFlow({ named, addressed, options: { attributes }, reads: origin === undefined && !dispatcher, dispatcher });
  };

  patcher.wrap(
    proto,
    'connect',
    (connect) =>
      function (this: FlowSocket, ...args: unknown[]): unknown {
        const options = connectOptions(args);
        const target = options === undefined ? undefined : targetOf(options);
        // Malformed arguments: Node rejects them as it would without provenant.
        if (options === undefined || target === undefined) return connect.apply(this, args);
        // No SOCKET_FLOW: neither its writes nor its reads nor the name lookup are flows.
        const telemetry = telemetryConnect.active || (target.host !== undefined && grpc.isTransport(target.host, target.port));
        if (telemetry) {
          this[NO_FLOW] = true;
          // A TLS socket may have derived one from its fresh handle, on an event before this connect.
          if (this[SOCKET_FLOW]?.derived === true) delete this[SOCKET_FLOW];
          return withInternalLookups(() => connect.apply(this, args));
        }
        const dispatcher = options[HTTP_SOCKET] === true || dispatcherConnect.active;
        const origin = httpOrigin;
        const flow = clientFlow(this, target, origin, dispatcher);
        // The HTTP layer decided its own origin; anything else the socket reaches is decided here.
        const error = flow.named === origin || dispatcher ? undefined : denied(flow, flow.named);
        this[SOCKET_FLOW] = flow;
        if (error) {
          // No connection is attempted. Destroyed a tick later, as a refused connection would
          // be: an HTTP client that is handed this socket attaches its 'error' listener first.
          flow.denial = error;
          // A closed socket being reconnected is destroyed already: it only reports the denial.
          process.nextTick(() => {
            if (!this.destroyed) this.destroy(error);
            // Reported once: a write after the denied connect may already have destroyed it with it.
            else if (!decisions.wasReported(this)) this.emit('error', error);
          });
          return this;
        }
        let result: unknown;
        if (target.path !== undefined || net.isIP(target.host) !== 0) result = connect.apply(this, args);
        else {
          const lookup = typeof options.lookup === 'function' ? (options.lookup as Lookup) : (dns.lookup as unknown as Lookup);
          const callback = (Array.isArray(args[0]) ? (args[0] as unknown[]) : args).find((arg) => typeof arg === 'function');
          result = withInternalLookups(() => connect.call(this, { ...options, lookup: decidedLookup(flow, lookup) }, callback));
        }
        // Node made (or kept) the handle synchronously: another socket made around it goes where this one goes.
        noteHandleFlow(this, flow);
        return result;
      },
  );

  patcher.wrap(
    tls,
    'connect',
    (original) =>
      function connect(this: unknown, ...args: unknown[]): tls.TLSSocket {
        const options = args.find((arg): arg is ConnectOptions => typeof arg === 'object' && arg !== null);
        const call = (): tls.TLSSocket => (original as (...a: unknown[]) => tls.TLSSocket).apply(this, args);
        const socket: tls.TLSSocket & FlowSocket = options?.[HTTP_SOCKET] === true ? dispatcherConnect.run(call) : call();
        // TLS over a socket the app connected: plaintext writes go through the TLS socket.
        const under = options?.socket as FlowSocket | undefined;
        if (under?.[SOCKET_FLOW] !== undefined && (socket[SOCKET_FLOW] === undefined || socket[SOCKET_FLOW].derived)) {
          socket[SOCKET_FLOW] = sameDestination(under[SOCKET_FLOW]);
          noteHandleFlow(socket, socket[SOCKET_FLOW]);
        }
        return socket;
      },
  );

  /** An accepted connection: the caller by address; a raw server's connection gets its own flow context. */
  const accept = (server: net.Server, socket: FlowSocket): FlowContext | undefined => {
    // A flow derived on first use (a TLS socket's before its handshake ended) gives way to the caller's.
    if (socket[SOCKET_FLOW] !== undefined && !socket[SOCKET_FLOW].derived) return socket[FLOW_CONTEXT];
    const remote = socket.remoteAddress === undefined ? undefined : normaliseHost(socket.remoteAddress);
    const local = server.address();
    const named = remote !== undefined ? resources.peer(remote) : resources.unix(typeof local === 'string' ? local : 'unknown');
    const attributes: Attributes =
      remote === undefined
        ? { 'network.transport': 'unix' }
        : { 'network.peer.address': remote, 'network.peer.port': socket.remotePort ?? 0 };
    const viaHttp =
      server instanceof http.Server || server instanceof https.Server || (server as { [HTTP_SERVER]?: boolean })[HTTP_SERVER] === true;
    socket[SOCKET_FLOW] = newSocketFlow({ named, addressed: undefined, options: { attributes }, reads: !viaHttp, dispatcher: false });
    noteHandleFlow(socket, socket[SOCKET_FLOW]);
    if (viaHttp) return undefined;
    const ctx = contexts.create('request');
    socket[FLOW_CONTEXT] = ctx;
    return ctx;
  };

  const serverEmit = (emit: ServerEmit): ServerEmit =>
    function (this: unknown, ...args: [event: string | symbol, ...rest: unknown[]]): boolean {
      const event = args[0];
      // A TLS server's plaintext socket is the one of 'secureConnection'; its TCP socket is written natively.
      const accepted = event === 'secureConnection' || (event === 'connection' && !(this instanceof tls.Server));
      if (!accepted || !(this instanceof net.Server) || !(args[1] instanceof net.Socket)) return emit.apply(this, args);
      const ctx = accept(this, args[1]);
      if (ctx === undefined) return emit.apply(this, args);
      return contexts.runWith(ctx, () => emit.apply(this, args));
    };
  const serverProto: { emit: ServerEmit } = net.Server.prototype;
  patcher.wrap(serverProto, 'emit', serverEmit);
}

/** The options of a connect call in any of its forms; undefined when unparsable (Node throws). */
function connectOptions(args: readonly unknown[]): ConnectOptions | undefined {
  let first = args[0];
  // net.createConnection hands connect its already-normalised [options, callback] array.
  if (Array.isArray(first)) first = first[0];
  if (typeof first === 'object' && first !== null) return first;
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    return { port: first, host: typeof args[1] === 'string' ? args[1] : undefined };
  }
  if (typeof first === 'string') return { path: first };
  return undefined;
}

function targetOf(options: ConnectOptions): Target | undefined {
  if (typeof options.path === 'string' && options.path !== '') return { path: options.path };
  if (options.port === undefined || options.port === null) return undefined;
  const port = Number(options.port);
  if (!Number.isInteger(port)) return undefined;
  const host = typeof options.host === 'string' && options.host !== '' ? normaliseHost(options.host) : 'localhost';
  return { host, port };
}
