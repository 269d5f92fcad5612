/**
 * HTTP/2 server streams: each incoming stream runs in its own flow context, seeded by reading from
 * the caller (its verified `service://` identity when signed baggage comes from a trusted peer,
 * else the caller by address with untrusted integrity), joined to the caller's trace by its
 * traceparent. `respond`, `respondWithFile` / `respondWithFD` (a read of that file first) and
 * `pushStream` (before its PUSH_PROMISE; the pushed stream answers the same caller) are decided
 * as flows to the caller. A trusted caller's response carries the signed `provenant-baggage`
 * claim, set in the headers `respond()` submits and kept true afterwards (ResponseClaim). The
 * monitors gate each stream before the app sees it, and its response carries their evidence, as
 * over HTTP/1.
 */
import type http2 from 'node:http2';
import path from 'node:path';
import type { Attributes } from '@opentelemetry/api';
import { normaliseHost } from '../../provenance/host.js';
import type { FlowContexts } from '../../provenance/context.js';
import { FLOW_CONTEXT, inContext, type ContextBound } from '../net/context-binding.js';
import { localEndpoint } from '../net/http-server.js';
import { ResponseClaim } from '../net/response-claim.js';
import type { Patcher } from '../patcher.js';
import { EVIDENCE_HEADER } from '../../monitor/evidence.js';
import { admit, holdsAction, responseEvidence, type GatedRequest } from '../net/monitor-gate.js';
import { copyHeaders, getHeader, headersSent, HTTP2_RESPONSE, setHeader } from './propagation.js';
import { STREAM_FLOW, type FlowStream, type Method, type StreamFlow, type StreamGate } from './stream-gate.js';

type ServerMethods = Record<'respond' | 'respondWithFile' | 'respondWithFD' | 'pushStream' | 'additionalHeaders', Method>;
export type Emit = (this: unknown, event: string | symbol, ...args: unknown[]) => boolean;

/** A server stream's flow to `caller` in `ctx`; with a claim when the caller at `remote` is a trusted peer. */
function serverFlow(gate: StreamGate, base: Pick<StreamFlow, 'ctx' | 'destination' | 'attributes' | 'remote'>): StreamFlow {
  const claim = gate.flows.protocol.signsFor(base.remote)
    ? new ResponseClaim(gate.flows, base.remote, base.destination, HTTP2_RESPONSE)
    : undefined;
  return { ...base, server: true, claim, denied: false };
}

/**
 * The `emit` of HTTP/2 server sessions and servers: a 'stream' event runs in a new flow context
 * seeded from its caller. The session emits it first (its own listeners, then the server's
 * 'stream' event from Node's listener): whichever sees a stream first enters it, and the server's
 * emit then runs in the context the session's created.
 */
export function serverStreamEmit(gate: StreamGate, patchStreams: (stream: FlowStream) => void): (emit: Emit) => Emit {
  const { engine, flows } = gate;
  return (emit) =>
    function (this: unknown, ...args: [event: string | symbol, ...rest: unknown[]]): boolean {
      if (args[0] !== 'stream') return emit.apply(this, args);
      const stream = args[1] as FlowStream;
      const entered = stream[FLOW_CONTEXT];
      if (entered !== undefined) return inContext(engine.contexts, entered, () => emit.apply(this, args));
      const headers = (args[2] ?? {}) as http2.IncomingHttpHeaders;
      const socket = stream.session?.socket;
      const remote = socket?.remoteAddress === undefined ? undefined : normaliseHost(socket.remoteAddress);
      const { verdict, claims, rest } = flows.protocol.receive(remote, headers.baggage, localEndpoint(socket));
      // Claims stop here: app code and other propagators never see or forward them.
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
      const ctx = engine.contexts.create('request');
      const parent = flows.protocol.parseTraceparent(headers.traceparent);
      if (parent && ctx.kind === 'request') ctx.parentSpan = parent;
      stream[STREAM_FLOW] = serverFlow(gate, { ctx, destination: caller, attributes, remote });
      stream[FLOW_CONTEXT] = ctx;
      patchStreams(stream);
      return engine.contexts.runWith(ctx, () => {
        flows.read(caller, verdict, attributes, true);
        // The monitors decide before the app sees the stream, as over HTTP/1 (monitor-gate.ts).
        const request: GatedRequest = {
          method: typeof headers[':method'] === 'string' ? headers[':method'] : 'GET',
          url: headers[':path'],
          evidence: headers[EVIDENCE_HEADER],
          body: stream,
          holder: stream,
          answer: (status, contentType, body) => answer(stream, status, contentType, body),
        };
        return admit(engine, request, () => emit.apply(this, args)) ? emit.apply(this, args) : true;
      });
    };
}

const COMPAT_EVENTS: ReadonlySet<string | symbol> = new Set(['request', 'checkContinue', 'checkExpectation']);
type CompatMessage = ContextBound & { readonly stream?: FlowStream };

/**
 * The `emit` of HTTP/2 servers: besides 'stream' (serverStreamEmit), a 'session' has its
 * prototype's emit patched (`patchSession`: its 'stream' listeners run before the server's), and
 * the compatibility API's request and response take their stream's context, so their own events
 * run in it too (an HTTP/1 request of an `allowHTTP1` server gets what HTTP/1 servers give).
 */
export function serverEmit(
  streamEmit: (emit: Emit) => Emit,
  patchSession: (session: unknown) => void,
  contexts: FlowContexts,
): (emit: Emit) => Emit {
  return (emit) => {
    // Loaded with http2's own load, which enables the network part first (net/index.ts).
    const http = process.getBuiltinModule('node:http');
    const streams = streamEmit(emit);
    return function (this: unknown, ...args: [event: string | symbol, ...rest: unknown[]]): boolean {
      const event = args[0];
      if (event === 'session') patchSession(args[1]);
      if (!COMPAT_EVENTS.has(event)) return streams.apply(this, args);
      const request = args[1] as CompatMessage;
      // An HTTP/1 request on an `allowHTTP1` server: handled as on any HTTP/1 server (http.Server's
      // emit, wrapped by http-server.ts: its context, the caller's read, the monitors).
      if (request instanceof http.IncomingMessage) return (http.Server.prototype.emit as Emit).apply(this, args);
      const ctx = request.stream?.[FLOW_CONTEXT];
      if (ctx === undefined) return emit.apply(this, args);
      request[FLOW_CONTEXT] = ctx;
      (args[2] as CompatMessage)[FLOW_CONTEXT] = ctx;
      return inContext(contexts, ctx, () => emit.apply(this, args));
    };
  };
}

/** Patch the server stream prototype (internal to Node: found from the first server stream). */
export function patchServerStreams(gate: StreamGate, patcher: Patcher, stream: FlowStream): void {
  const proto = serverStreamPrototype(stream);
  if (proto === undefined) return;
  const { engine } = gate;
  gate.respond = proto.respond;
  const endOf = (s: FlowStream): Method => gate.end ?? (s.end as unknown as Method);
  /**
   * Decide a call whose headers are `args[at]` (a copy, so a claim and the monitors' evidence can
   * be added without touching the app's object).
   */
  const decideHeaders = (s: FlowStream, args: unknown[], at: number): boolean => {
    if (s[STREAM_FLOW]?.claim === undefined && !holdsAction(s)) return gate.allowed(s, gate.refuser(s, endOf(s)), false);
    const headers = copyHeaders(args[at]);
    args[at] = headers;
    if (!gate.allowed(s, gate.refuser(s, endOf(s)), false, headers)) return false;
    const evidence = responseEvidence(engine, s, Number(getHeader(headers, ':status') ?? 200));
    if (evidence !== undefined) setHeader(headers, EVIDENCE_HEADER, evidence);
    return true;
  };
  patcher.wrap(
    proto,
    'respond',
    (original) =>
      function (this: FlowStream, ...args: unknown[]): unknown {
        return decideHeaders(this, args, 0) ? original.apply(this, args) : undefined;
      },
  );
  patcher.wrap(
    proto,
    'respondWithFile',
    (original) =>
      function (this: FlowStream, ...args: unknown[]): unknown {
        const flow = this[STREAM_FLOW];
        if (flow !== undefined && typeof args[0] === 'string')
          inContext(engine.contexts, flow.ctx, () => engine.read(engine.resources.file(path.resolve(args[0] as string))));
        return decideHeaders(this, args, 1) ? original.apply(this, args) : undefined;
      },
  );
  // The file behind the descriptor (named through /proc/self/fd) is read, then the response decided.
  patcher.wrap(
    proto,
    'respondWithFD',
    (original) =>
      function (this: FlowStream, ...args: unknown[]): unknown {
        const flow = this[STREAM_FLOW];
        const fd = typeof args[0] === 'number' ? args[0] : (args[0] as { fd?: unknown } | null | undefined)?.fd;
        if (flow !== undefined && typeof fd === 'number')
          inContext(engine.contexts, flow.ctx, () => engine.read(engine.file(`/proc/self/fd/${fd}`)));
        return decideHeaders(this, args, 1) ? original.apply(this, args) : undefined;
      },
  );
  // Informational headers (103 Early Hints, the compatibility API's writeEarlyHints) reach the
  // caller before the response: decided as the response (a denial refuses it).
  patcher.wrap(
    proto,
    'additionalHeaders',
    (original) =>
      function (this: FlowStream, ...args: unknown[]): unknown {
        return gate.allowed(this, gate.refuser(this, endOf(this)), false) ? original.apply(this, args) : undefined;
      },
  );
  // A push promise carries headers to the caller: decided (as the response) before its frame; a
  // denial refuses the response and fails the push's callback. The pushed stream answers the
  // same caller in the same context, so its own response is decided (and claimed) too.
  patcher.wrap(
    proto,
    'pushStream',
    (original) =>
      function (this: FlowStream, ...args: unknown[]): unknown {
        const at = args.findLastIndex((arg) => typeof arg === 'function');
        const callback = at === -1 ? undefined : (args[at] as (error: Error | null, pushed?: FlowStream, ...rest: unknown[]) => void);
        if (!gate.allowed(this, gate.refuser(this, endOf(this)), false)) {
          if (callback) process.nextTick(callback, this[STREAM_FLOW]?.denial);
          return undefined;
        }
        const flow = this[STREAM_FLOW];
        if (flow !== undefined && callback !== undefined)
          args[at] = (error: Error | null, pushed?: FlowStream, ...rest: unknown[]): void => {
            if (pushed !== undefined) {
              pushed[STREAM_FLOW] = serverFlow(gate, {
                ctx: flow.ctx,
                destination: flow.destination,
                attributes: flow.attributes,
                remote: flow.remote,
              });
              pushed[FLOW_CONTEXT] = flow.ctx;
            }
            callback(error, pushed, ...rest);
          };
        return original.apply(this, args);
      },
  );
}

function serverStreamPrototype(stream: FlowStream): ServerMethods | undefined {
  let proto: object | null = Object.getPrototypeOf(stream) as object;
  while (proto !== null && !Object.prototype.hasOwnProperty.call(proto, 'respond')) proto = Object.getPrototypeOf(proto) as object | null;
  return proto === null ? undefined : (proto as ServerMethods);
}

/** A whole answer from provenant (a monitor's refusal, the evidence endpoint), decided like any response; a reset once headers are out. */
function answer(stream: FlowStream, status: number, contentType: string, body: string): void {
  if (headersSent(stream) || stream.destroyed) {
    stream.destroy();
    return;
  }
  const server = stream as unknown as http2.ServerHttp2Stream;
  server.respond({ ':status': status, 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  server.end(body);
}
