/**
 * HTTP/2 (`node:http2`), client and server, with HTTP/1's semantics where they carry over:
 *
 * - **Client**: `http2.connect` is a write flow to the origin (`http(s)://host:port`), decided
 *   before anything connects (a denial is thrown, no connection); every `session.request()` is
 *   decided again with the requesting context before its HEADERS are submitted (thrown on deny),
 *   so a session opened while the context was clean carries no later secret unchecked; each
 *   stream's body writes are decided with the writing context (a denial destroys the stream with
 *   the error); a response is read into the requesting context.
 * - **Server**: each incoming stream runs in its own flow context, seeded by reading from the
 *   caller (its verified `service://` identity when signed baggage comes from a trusted peer, else
 *   the caller by address with untrusted integrity); `respond`, body writes, trailers and
 *   `respondWithFile` / `respondWithFD` (a read of that file first) and `pushStream` (before its
 *   PUSH_PROMISE) are decided as flows to the caller; a denial before the headers answers 403
 *   problem+json, after them resets the stream.
 *
 * Not carried over: signed claims in responses (`provenant-baggage`) and baggage on outgoing
 * requests. Over 250 lines because the client and server stream patches are closures over one
 * shared state (the stream-flow map, the captured `respond`/`end`, the refusal path); moving the
 * server half out means passing that state explicitly, not yet done.
 */
import http2 from 'node:http2';
import path from 'node:path';
import type { Attributes } from '@opentelemetry/api';
import type { FlowEngine } from '../../engine/flow-engine.js';
import type { FlowContext } from '../../provenance/context.js';
import type { Resource } from '../../provenance/resource.js';
import { normaliseHost } from '../../provenance/host.js';
import type { Instrumentation, InstrumentationContext } from '../instrumentation.js';
import { FLOW_CONTEXT, inContext, type ContextBound } from '../net/context-binding.js';
import type { GrpcTelemetry } from '../net/grpc-telemetry.js';
import { PeerFlows } from '../net/peer-flows.js';
import { asHttpOwned, HTTP_SERVER } from '../net/socket.js';
import { Patcher } from '../patcher.js';
import { deniedProblem, PROBLEM_TYPE } from '../problem.js';

const STREAM_FLOW = Symbol('provenant.http2Flow');
const SESSION_ORIGIN = Symbol('provenant.http2Origin');

interface StreamFlow {
  readonly ctx: FlowContext;
  /** Where the stream's bytes go: the origin (client) or the caller (server). */
  readonly destination: Resource;
  readonly attributes: Attributes;
  readonly server: boolean;
  denied: boolean;
  /** Why, once `denied`. */
  denial?: Error;
}

type Method = (this: FlowStream, ...args: unknown[]) => unknown;
type FlowStream = http2.Http2Stream & ContextBound & { [STREAM_FLOW]?: StreamFlow };
type Session = http2.ClientHttp2Session & { [SESSION_ORIGIN]?: { resource: Resource; attributes: Attributes } };
type Connect = (this: unknown, ...args: unknown[]) => http2.ClientHttp2Session;
type Emit = (this: unknown, event: string | symbol, ...args: unknown[]) => boolean;

export class Http2Instrumentation implements Instrumentation {
  readonly name = 'http2';
  private readonly patcher = new Patcher();

  enable(context: InstrumentationContext): void {
    enableHttp2Flows(context.engine, new PeerFlows(context.engine, context.peers), this.patcher, context.grpcTelemetry);
  }

  disable(): void {
    this.patcher.restoreAll();
  }
}

function enableHttp2Flows(engine: FlowEngine, flows: PeerFlows, patcher: Patcher, grpc: GrpcTelemetry): void {
  const contexts = engine.contexts;
  let streamsPatched = false;
  let serverStreamsPatched = false;
  let end: Method | undefined;

  const denial = (resource: Resource, attributes: Attributes): Error | undefined => {
    const decision = engine.authorizeWrite(resource, undefined, { attributes });
    return decision.kind === 'deny' ? engine.deniedError(decision, resource) : undefined;
  };

  /** Refuse a server stream: 403 problem+json while its headers are unsent, else reset it. */
  const refuse = (
    stream: FlowStream,
    error: Error & { rule?: string; reason?: string; destination?: string },
    respond: Method,
    end: Method,
  ): void => {
    if ((stream as FlowStream & { headersSent?: boolean }).headersSent === true || stream.destroyed) {
      stream.destroy(error);
      return;
    }
    const body = deniedProblem(error);
    respond.call(stream, { ':status': 403, 'content-type': PROBLEM_TYPE, 'content-length': Buffer.byteLength(body) });
    end.call(stream, body);
  };

  /** Decide a stream's outgoing bytes in its flow's context: true when they may go. */
  const allowed = (stream: FlowStream, refuseWith: ((error: Error) => void) | undefined): boolean => {
    const flow = stream[STREAM_FLOW];
    if (flow === undefined) return true;
    if (flow.denied) return false;
    // A client writes in the writing context; a server's response belongs to its request's context.
    const decide = (): Error | undefined => denial(flow.destination, flow.attributes);
    const error = flow.server ? inContext(contexts, flow.ctx, decide) : decide();
    if (error === undefined) return true;
    flow.denied = true;
    flow.denial = error;
    if (refuseWith) refuseWith(error);
    else stream.destroy(error);
    return false;
  };

  let respond: Method | undefined;
  const refuser = (s: FlowStream, endStream: Method) => (error: Error) =>
    respond ? refuse(s, error, respond, endStream) : s.destroy(error);

  /** Stream prototypes are internal: patched from the first stream seen (server ones from the first server stream). */
  const patchStreams = (stream: FlowStream): void => {
    if (stream[STREAM_FLOW]?.server === true && !serverStreamsPatched) {
      serverStreamsPatched = true;
      patchServerStreams(stream);
    }
    if (streamsPatched) return;
    streamsPatched = true;
    let base: object | null = Object.getPrototypeOf(stream) as object;
    while (base !== null && !Object.prototype.hasOwnProperty.call(base, 'sendTrailers'))
      base = Object.getPrototypeOf(base) as object | null;
    if (base === null) return;
    const streamProto = base as Record<'write' | 'end' | 'sendTrailers', Method>;
    const endOriginal = streamProto.end;
    end = endOriginal;
    patcher.wrap(
      streamProto,
      'write',
      (write) =>
        function (this: FlowStream, ...args: unknown[]): unknown {
          return allowed(this, this[STREAM_FLOW]?.server === true ? refuser(this, endOriginal) : undefined)
            ? write.apply(this, args)
            : false;
        },
    );
    patcher.wrap(
      streamProto,
      'end',
      (original) =>
        function (this: FlowStream, ...args: unknown[]): unknown {
          const sends = args[0] !== undefined && args[0] !== null && typeof args[0] !== 'function';
          if (!sends || allowed(this, this[STREAM_FLOW]?.server === true ? refuser(this, original) : undefined))
            return original.apply(this, args);
          return this;
        },
    );
    patcher.wrap(
      streamProto,
      'sendTrailers',
      (original) =>
        function (this: FlowStream, ...args: unknown[]): unknown {
          return allowed(this, undefined) ? original.apply(this, args) : undefined;
        },
    );
  };

  const patchServerStreams = (stream: FlowStream): void => {
    const serverProto = http2ServerStreamPrototype(stream);
    if (serverProto === undefined) return;
    respond = serverProto.respond;
    const endOf = (s: FlowStream): Method => end ?? (s.end as unknown as Method);
    patcher.wrap(
      serverProto,
      'respond',
      (original) =>
        function (this: FlowStream, ...args: unknown[]): unknown {
          return allowed(this, refuser(this, endOf(this))) ? original.apply(this, args) : undefined;
        },
    );
    patcher.wrap(
      serverProto,
      'respondWithFile',
      (original) =>
        function (this: FlowStream, ...args: unknown[]): unknown {
          const flow = this[STREAM_FLOW];
          if (flow !== undefined && typeof args[0] === 'string')
            inContext(contexts, flow.ctx, () => engine.read(engine.resources.file(path.resolve(args[0] as string))));
          return allowed(this, refuser(this, endOf(this))) ? original.apply(this, args) : undefined;
        },
    );
    // The file behind the descriptor (named through /proc/self/fd) is read, then the response decided.
    patcher.wrap(
      serverProto,
      'respondWithFD',
      (original) =>
        function (this: FlowStream, ...args: unknown[]): unknown {
          const flow = this[STREAM_FLOW];
          const fd = typeof args[0] === 'number' ? args[0] : (args[0] as { fd?: unknown } | null | undefined)?.fd;
          if (flow !== undefined && typeof fd === 'number')
            inContext(contexts, flow.ctx, () => engine.read(engine.file(`/proc/self/fd/${fd}`)));
          return allowed(this, refuser(this, endOf(this))) ? original.apply(this, args) : undefined;
        },
    );
    // A push promise carries headers to the caller: decided (as the response) before its frame;
    // a denial refuses the response and fails the push's callback.
    patcher.wrap(
      serverProto,
      'pushStream',
      (original) =>
        function (this: FlowStream, ...args: unknown[]): unknown {
          if (allowed(this, refuser(this, endOf(this)))) return original.apply(this, args);
          const callback = args.findLast((arg) => typeof arg === 'function') as ((error: Error) => void) | undefined;
          if (callback) process.nextTick(callback, this[STREAM_FLOW]?.denial);
          return undefined;
        },
    );
  };

  // Client sessions.
  const connectWrapper = (connect: Connect): Connect =>
    function (this: unknown, ...args: unknown[]): http2.ClientHttp2Session {
      const origin = originOf(args[0]);
      // The app's OTLP/gRPC exporter over the socket grpc-js connected (grpc-telemetry.ts): no origin, no stream flows.
      if (origin === undefined || grpc.isTransport(origin.host, origin.port)) return connect.apply(this, args);
      const resource = engine.resources.http(origin.protocol, origin.host, origin.port);
      const attributes: Attributes = {
        'server.address': origin.host,
        'server.port': origin.port,
        'network.protocol.name': 'http',
        'network.protocol.version': '2',
      };
      const error = denial(resource, attributes);
      if (error) throw error;
      const session: Session = asHttpOwned(resource, () => connect.apply(this, args));
      session[SESSION_ORIGIN] = { resource, attributes };
      patchSession(session);
      return session;
    };
  patcher.wrap(http2 as unknown as { connect: Connect }, 'connect', connectWrapper);

  let sessionPatched = false;
  const patchSession = (session: Session): void => {
    if (sessionPatched) return;
    sessionPatched = true;
    const proto = Object.getPrototypeOf(session) as Record<'request', Method>;
    patcher.wrap(
      proto,
      'request',
      (request) =>
        function (this: unknown, ...args: unknown[]): unknown {
          const origin = (this as Session)[SESSION_ORIGIN];
          if (origin === undefined) return request.apply(this as FlowStream, args);
          const error = denial(origin.resource, origin.attributes);
          if (error) throw error;
          const ctx = contexts.current();
          const stream = request.apply(this as FlowStream, args) as FlowStream;
          stream[STREAM_FLOW] = { ctx, destination: origin.resource, attributes: origin.attributes, server: false, denied: false };
          stream[FLOW_CONTEXT] = ctx;
          stream.once('response', () =>
            inContext(contexts, ctx, () => engine.read(origin.resource, undefined, { attributes: origin.attributes })),
          );
          patchStreams(stream);
          return stream;
        },
    );
  };

  // Server streams: one flow context each, seeded by reading from the caller.
  const serverEmit = (emit: Emit): Emit =>
    function (this: unknown, ...args: [event: string | symbol, ...rest: unknown[]]): boolean {
      if (args[0] !== 'stream') return emit.apply(this, args);
      const stream = args[1] as FlowStream;
      const headers = (args[2] ?? {}) as http2.IncomingHttpHeaders;
      const remoteAddress = stream.session?.socket?.remoteAddress;
      const remote = remoteAddress === undefined ? undefined : normaliseHost(remoteAddress);
      const { verdict, claims, rest } = flows.protocol.receive(remote, headers.baggage);
      if (claims) {
        if (rest === undefined) delete headers.baggage;
        else headers.baggage = rest;
      }
      const caller = flows.callerOf(verdict, engine.resources.peer(remote ?? 'unknown'));
      const attributes: Attributes = {
        'network.peer.address': remote ?? '',
        'network.protocol.name': 'http',
        'network.protocol.version': '2',
      };
      const ctx = contexts.create('request');
      stream[STREAM_FLOW] = { ctx, destination: caller, attributes, server: true, denied: false };
      stream[FLOW_CONTEXT] = ctx;
      patchStreams(stream);
      return contexts.runWith(ctx, () => {
        flows.read(caller, verdict, attributes, true);
        return emit.apply(this, args);
      });
    };
  for (const create of ['createServer', 'createSecureServer'] as const) {
    const proto = Object.getPrototypeOf(http2[create]()) as { emit: Emit } & Record<symbol, unknown>;
    patcher.wrap(proto, 'emit', serverEmit);
    patcher.define(proto, HTTP_SERVER, true);
  }
}

function http2ServerStreamPrototype(
  stream: FlowStream,
): Record<'respond' | 'respondWithFile' | 'respondWithFD' | 'pushStream', Method> | undefined {
  let proto: object | null = Object.getPrototypeOf(stream) as object;
  while (proto !== null && !Object.prototype.hasOwnProperty.call(proto, 'respond')) proto = Object.getPrototypeOf(proto) as object | null;
  return proto === null ? undefined : (proto as Record<'respond' | 'respondWithFile' | 'respondWithFD' | 'pushStream', Method>);
}

function originOf(authority: unknown): { protocol: 'http' | 'https'; host: string; port: number } | undefined {
  try {
    const url = authority instanceof URL ? authority : new URL(String(authority));
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    const protocol = url.protocol === 'https:' ? 'https' : 'http';
    return { protocol, host: normaliseHost(url.hostname), port: Number(url.port) || (protocol === 'https' ? 443 : 80) };
  } catch {
    return undefined;
  }
}
