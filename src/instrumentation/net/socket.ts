/**
 * Raw TCP and TLS clients (`net.connect`, `net.createConnection`, `new Socket().connect`,
 * `tls.connect`): the connect is a write flow to `tcp://host:port` checked before the
 * connection opens; later writes are re-checked (memoised) and reads flow into the context.
 * Sockets owned by an HTTP client (http Agents, provenant's fetch dispatcher) are skipped so an
 * HTTP exchange is one flow, recorded by the HTTP instrumentation.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Attributes } from '@opentelemetry/api';
import type { FlowEngine } from '../../engine/flow-engine.js';
import type { Resource } from '../../provenance/resource.js';
import { normaliseHost } from '../../provenance/host.js';
import { ReentrancyGuard } from '../../support/reentrancy.js';
import type { Patcher } from '../patcher.js';
import { endsWithChunk } from './end-chunk.js';

/** Connect option marking a socket opened for an HTTP client (set on provenant's fetch dispatcher). */
export const HTTP_SOCKET = Symbol.for('provenant.httpSocket');
const SOCKET_FLOW = Symbol('provenant.socketFlow');

/** Active while an HTTP client creates its request: the socket it connects is not a raw flow. */
const httpOwned = new ReentrancyGuard();

/** Run `fn` with any socket it connects synchronously treated as HTTP-owned (not a raw flow). */
export function asHttpOwned<T>(fn: () => T): T {
  return httpOwned.run(fn);
}

interface SocketFlow {
  readonly resource: Resource;
  /** The 4-tuple, once connected. */
  tuple: Attributes | undefined;
}

type FlowSocket = net.Socket & { [SOCKET_FLOW]?: SocketFlow };
type ConnectOptions = { host?: unknown; port?: unknown; path?: unknown; _agentKey?: unknown; [HTTP_SOCKET]?: unknown };
type SocketWrite = net.Socket['write'];
type SocketEnd = net.Socket['end'];
type SocketEmit = net.Socket['emit'];

export function enableSocketFlows(engine: FlowEngine, patcher: Patcher): void {
  const proto = net.Socket.prototype;
  const write = proto.write;
  const end = proto.end;
  const emit = proto.emit;

  const deny = (flow: SocketFlow): Error | undefined => {
    const decision = engine.authorizeWrite(flow.resource, undefined, { attributes: flow.tuple ?? peerAttributes(flow.resource) });
    return decision.kind === 'deny' ? engine.deniedError(decision, flow.resource) : undefined;
  };

  const trackedWrite = function (this: FlowSocket, ...args: Parameters<SocketWrite>): boolean {
    const flow = this[SOCKET_FLOW];
    if (flow) {
      flow.tuple ??= fourTuple(this);
      const error = deny(flow);
      if (error) {
        const callback = args.find((arg): arg is (err?: Error | null) => void => typeof arg === 'function');
        this.destroy(error);
        if (callback) process.nextTick(callback, error);
        return false;
      }
    }
    return write.apply(this, args);
  } as SocketWrite;

  const trackedEnd = function (this: FlowSocket, ...args: unknown[]): FlowSocket {
    const flow = this[SOCKET_FLOW];
    if (flow && endsWithChunk(args)) {
      flow.tuple ??= fourTuple(this);
      const error = deny(flow);
      if (error) {
        this.destroy(error);
        return this;
      }
    }
    return (end as (...a: unknown[]) => FlowSocket).apply(this, args);
  } as SocketEnd;

  const trackedEmit = function (this: FlowSocket, event: string | symbol, ...args: unknown[]): boolean {
    const flow = this[SOCKET_FLOW];
    if (flow && event === 'data') {
      flow.tuple ??= fourTuple(this);
      const chunk = args[0] as { length?: number } | undefined;
      engine.read(flow.resource, chunk?.length, { attributes: flow.tuple ?? peerAttributes(flow.resource) });
    }
    return emit.apply(this, [event, ...args] as Parameters<SocketEmit>);
  } as SocketEmit;

  patcher.wrap(
    proto,
    'connect',
    (original) =>
      function connect(this: FlowSocket, ...args: unknown[]): FlowSocket {
        const options = connectOptions(args);
        if (httpOwned.active || this[SOCKET_FLOW] !== undefined || options === undefined || isHttpOwned(options)) {
          return (original as (...a: unknown[]) => FlowSocket).apply(this, args);
        }
        const host = typeof options.host === 'string' && options.host !== '' ? normaliseHost(options.host) : 'localhost';
        const port = Number(options.port);
        const flow: SocketFlow = { resource: engine.resources.tcp(host, port), tuple: undefined };
        const error = deny(flow);
        if (error) {
          // No connection is attempted; streams emit the error on the next tick.
          this.destroy(error);
          return this;
        }
        this[SOCKET_FLOW] = flow;
        this.write = trackedWrite;
        this.end = trackedEnd;
        this.emit = trackedEmit;
        return (original as (...a: unknown[]) => FlowSocket).apply(this, args);
      },
  );

  // tls.connect copies its options before connecting, dropping the http markers: honour them here.
  patcher.wrap(
    tls,
    'connect',
    (original) =>
      function connect(this: unknown, ...args: unknown[]): tls.TLSSocket {
        const call = (): tls.TLSSocket => (original as (...a: unknown[]) => tls.TLSSocket).apply(this, args);
        const options = args.find((arg): arg is ConnectOptions => typeof arg === 'object' && arg !== null);
        return options !== undefined && isHttpOwned(options) ? asHttpOwned(call) : call();
      },
  );
}

/** The options of a connect call in any of its forms; undefined for IPC paths or unparsable calls. */
function connectOptions(args: readonly unknown[]): ConnectOptions | undefined {
  let first = args[0];
  // net.createConnection hands connect its already-normalised [options, callback] array.
  if (Array.isArray(first)) first = first[0];
  if (typeof first === 'object' && first !== null) {
    const options = first as ConnectOptions;
    return options.path !== undefined || options.port === undefined ? undefined : options;
  }
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    return { port: first, host: typeof args[1] === 'string' ? args[1] : undefined };
  }
  return undefined;
}

function isHttpOwned(options: ConnectOptions): boolean {
  return options._agentKey !== undefined || options[HTTP_SOCKET] === true;
}

function peerAttributes(resource: Resource): Attributes {
  return { 'server.address': resource.host ?? '', 'server.port': resource.port ?? 0 };
}

function fourTuple(socket: net.Socket): Attributes | undefined {
  if (socket.remoteAddress === undefined || socket.localAddress === undefined) return undefined;
  return {
    'network.local.address': socket.localAddress,
    'network.local.port': socket.localPort ?? 0,
    'network.peer.address': socket.remoteAddress,
    'network.peer.port': socket.remotePort ?? 0,
    'network.transport': 'tcp',
  };
}
