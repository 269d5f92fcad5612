/**
 * HTTP/2 (`node:http2`), client and server, with HTTP/1's semantics:
 *
 * - **Client**: `http2.connect` is a write flow to the origin (`http(s)://host:port`), decided
 *   before anything connects (a denial is thrown, no connection); every `session.request()` is
 *   decided again with the requesting context before its HEADERS are submitted (thrown on deny),
 *   so a session opened while the context was clean carries no later secret unchecked. The
 *   request carries traceparent and the app's baggage, plus a signed claim to a trusted peer
 *   (provenant members stripped for any other host); each stream's body writes are decided with
 *   the writing context (a denial, or data beyond the claim sent, destroys the stream with the
 *   error); a response is read into the requesting context with the server's verified claim.
 * - **Server**: see server-streams.ts; a denial before the headers answers 403 problem+json,
 *   after them resets the stream.
 *
 * Patched when `node:http2` is first loaded, not at preload (builtin-loads.ts): loading it cost
 * every thread ~2 ms of CPU and the process ~7.7 MiB, for apps that mostly never use it.
 */
import type http2 from 'node:http2';
import type { Attributes } from '@opentelemetry/api';
import type { FlowEngine } from '../../engine/flow-engine.js';
import type { Resource } from '../../provenance/resource.js';
import { normaliseHost } from '../../provenance/host.js';
import type { Instrumentation, InstrumentationContext } from '../instrumentation.js';
import { bindEmitsToContext, FLOW_CONTEXT, inContext } from '../net/context-binding.js';
import type { GrpcTelemetry } from '../net/grpc-telemetry.js';
import { PeerFlows, RESPONSE_CLAIM_HEADER } from '../net/peer-flows.js';
import { receiveEvidence } from '../net/monitor-gate.js';
import { EVIDENCE_HEADER } from '../../monitor/evidence.js';
import { asHttpOwned, HTTP_SERVER, socketDestinations } from '../net/socket.js';
import { Patcher } from '../patcher.js';
import { whenBuiltinLoaded } from '../builtin-loads.js';
import { requestHeaders } from './propagation.js';
import { patchServerStreams, serverEmit, serverStreamEmit, type Emit } from './server-streams.js';
import { readPushedStreams } from './client-pushes.js';
import { patchSessionFrames } from './session-frames.js';
import { refusedStream } from './refused-stream.js';
import { keepGrpcCallContexts } from './grpc-calls.js';
import { originOf, SESSION_ORIGIN, type Session } from './session-origin.js';
import { STREAM_FLOW, StreamGate, type FlowStream, type Method } from './stream-gate.js';
import { lockHandle, patchStreamWrites } from './stream-writes.js';

type Connect = (this: unknown, ...args: unknown[]) => http2.ClientHttp2Session;

export class Http2Instrumentation implements Instrumentation {
  readonly name = 'http2';
  private readonly patcher = new Patcher();

  enable(context: InstrumentationContext): void {
    whenBuiltinLoaded(this.patcher, 'http2', (loaded) =>
      enableHttp2Flows(
        loaded as typeof http2,
        context.engine,
        new PeerFlows(context.engine, context.peers),
        this.patcher,
        context.grpcTelemetry,
      ),
    );
  }

  disable(): void {
    this.patcher.restoreAll();
  }
}

function enableHttp2Flows(h2: typeof http2, engine: FlowEngine, flows: PeerFlows, patcher: Patcher, grpc: GrpcTelemetry): void {
  const contexts = engine.contexts;
  const gate = new StreamGate(engine, flows);
  keepGrpcCallContexts(patcher, contexts);
  let streamsPatched = false;
  let serverStreamsPatched = false;

  /** Stream prototypes are internal: patched from the first stream seen (server ones from the first server stream). */
  const patchStreams = (stream: FlowStream): void => {
    if (stream[STREAM_FLOW]?.server === true && !serverStreamsPatched) {
      serverStreamsPatched = true;
      patchServerStreams(gate, patcher, stream);
      if (stream.session !== undefined) patchSessionFrames(gate, patcher, stream.session, sessionPeers, framesPatched);
    }
    lockHandle(stream, gate, patcher);
    if (streamsPatched) return;
    streamsPatched = true;
    patchStreamWrites(stream, gate, patcher, contexts);
  };

  // Client sessions.
  const connectWrapper = (connect: Connect): Connect =>
    function (this: unknown, ...args: unknown[]): http2.ClientHttp2Session {
      const target = originOf(args[0]);
      if (target === undefined) return connect.apply(this, args);
      const resource = engine.resources.http(target.protocol, target.host, target.port);
      const attributes: Attributes = {
        'server.address': target.host,
        'server.port': target.port,
        'network.protocol.name': 'http',
        'network.protocol.version': '2',
      };
      // grpc-js's session to a named collector, over the socket it connected (grpc-telemetry.ts):
      // opening it carries nothing of the app's, but every channel to that collector may share it,
      // so its streams are decided one by one (the OTLP exporter's are not flows).
      const byGrpc = grpc.calledFromTransport();
      const collector = byGrpc && grpc.isCollector(target.host, target.port);
      if (!collector) {
        const error = gate.denial(resource, attributes);
        if (error) throw error;
      }
      const session: Session = collector ? connect.apply(this, args) : asHttpOwned(resource, () => connect.apply(this, args));
      session[SESSION_ORIGIN] = { resource, host: target.host, attributes, collector, grpc: byGrpc };
      patchSession(session);
      return session;
    };
  const nodeConnect = patcher.wrap(h2 as unknown as { connect: Connect }, 'connect', connectWrapper);

  // Frames besides streams (PING payloads, GOAWAY data, custom SETTINGS, ALTSVC, ORIGIN): decided as writes to the peer.
  const framesPatched = new WeakSet<object>();
  const sessionPeers = (session: http2.Http2Session): readonly Resource[] => {
    const origin = (session as Session)[SESSION_ORIGIN];
    if (origin !== undefined) return [origin.resource, ...socketDestinations(session.socket)];
    const remote = session.socket?.remoteAddress;
    return [engine.resources.peer(remote === undefined ? 'unknown' : normaliseHost(remote))];
  };

  let sessionPatched = false;
  const patchSession = (session: Session): void => {
    patchSessionFrames(gate, patcher, session, sessionPeers, framesPatched);
    if (sessionPatched) return;
    sessionPatched = true;
    const proto = Object.getPrototypeOf(session) as Record<'request', Method>;
    readPushedStreams(patcher, proto, contexts, flows, (pushing) => (pushing as Session)[SESSION_ORIGIN], patchStreams);
    patcher.wrap(
      proto,
      'request',
      (request) =>
        function (this: unknown, ...args: unknown[]): unknown {
          const origin = (this as Session)[SESSION_ORIGIN];
          if (origin === undefined || (origin.collector && grpc.isExporterStream(args[0]))) return request.apply(this as FlowStream, args);
          // The session's socket may go elsewhere than its authority (createConnection, lookup): decided against that too.
          const session = this as Session;
          const dialled = (): readonly Resource[] => socketDestinations(session.socket);
          const error =
            gate.denial(origin.resource, origin.attributes) ??
            gate.dialledDenial({ destination: origin.resource, dialled, attributes: origin.attributes });
          // grpc-js would start the call again at once, forever, after a throw: its stream fails instead.
          if (error && origin.grpc) return refusedStream(error, nodeConnect, request);
          if (error) throw error;
          const ctx = contexts.current();
          // The HEADERS frame is built now: the claim describes the requesting context at this point.
          const { headers, claimed } = requestHeaders(engine, flows, origin.host, origin.resource, args[0]);
          args[0] = headers;
          const stream = request.apply(this as FlowStream, args) as FlowStream;
          stream[STREAM_FLOW] = {
            ctx,
            destination: origin.resource,
            dialled,
            attributes: origin.attributes,
            server: false,
            claimed,
            denied: false,
          };
          stream[FLOW_CONTEXT] = ctx;
          stream.once('response', (response: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader) =>
            inContext(contexts, ctx, () => {
              receiveEvidence(engine, ctx, response[EVIDENCE_HEADER]);
              const verdict = flows.protocol.verify(origin.host, response[RESPONSE_CLAIM_HEADER]);
              const attributes = { ...origin.attributes, 'http.response.status_code': Number(response[':status'] ?? 0) };
              flows.read(origin.resource, verdict, attributes, false);
            }),
          );
          patchStreams(stream);
          return stream;
        },
    );
  };

  // Server streams: one flow context each, seeded by reading from the caller; their events, and
  // those of the compatibility API's request and response, run in it.
  const streamEmit = serverStreamEmit(gate, patchStreams);
  // Server sessions (of any server, or of http2.performServerHandshake, which has none) share one
  // prototype, patched from the first seen: before any of its streams exists.
  let sessionsPatched = false;
  const patchSessions = (session: unknown): void => {
    if (sessionsPatched || typeof session !== 'object' || session === null) return;
    sessionsPatched = true;
    patcher.wrap(Object.getPrototypeOf(session) as { emit: Emit }, 'emit', streamEmit);
  };
  patcher.wrap(
    h2 as unknown as { performServerHandshake: (...args: unknown[]) => unknown },
    'performServerHandshake',
    (handshake) =>
      function (this: unknown, ...args: unknown[]): unknown {
        const session = handshake.apply(this, args);
        patchSessions(session);
        return session;
      },
  );
  // Node does not export the server classes: each prototype is patched as its first server is made,
  // before the app gets it (making one of each at start, a TLS context and all, cost every thread ~5 ms).
  const emitWrapper = serverEmit(streamEmit, patchSessions, contexts);
  for (const create of ['createServer', 'createSecureServer'] as const) {
    let patched = false;
    patcher.wrapMethod(
      h2,
      create,
      (original) =>
        function (this: unknown): unknown {
          const server: unknown = Reflect.apply(original, this, arguments);
          if (!patched && typeof server === 'object' && server !== null) {
            patched = true;
            const proto = Object.getPrototypeOf(server) as { emit: Emit } & Record<symbol, unknown>;
            patcher.wrap(proto, 'emit', emitWrapper);
            patcher.define(proto, HTTP_SERVER, true);
          }
          return server;
        },
    );
  }
  bindEmitsToContext(patcher, h2.Http2ServerRequest.prototype, contexts);
  bindEmitsToContext(patcher, h2.Http2ServerResponse.prototype, contexts);
}
