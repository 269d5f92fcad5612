/**
 * HTTP/HTTPS servers (plain handlers, express, fastify: anything on http.Server / https.Server).
 * Each request runs in its own flow context, seeded by reading from the caller: its verified
 * `service://` identity, else `tcp://peer` with untrusted integrity. The response is one flow to
 * that caller, decided before the first header or body byte (early hints included): a denied
 * response becomes a 403 problem+json (or a destroyed socket once headers are out); the app's
 * writes fail through their callbacks (write-args.ts), never as an exception or an 'error' event.
 * A trusted caller's signed claim about the body is kept true by response-claim.ts. A little over
 * 250 lines: the request context and the response decision share the per-request flow state.
 */
import dc from 'node:diagnostics_channel';
import type http from 'node:http';
import type { Socket } from 'node:net';
import type { Attributes } from '@opentelemetry/api';
import { diag } from '@opentelemetry/api';
import type { FlowEngine } from '../../engine/flow-engine.js';
import type { ProvenanceDeniedError } from '../../errors.js';
import type { FlowContext } from '../../provenance/context.js';
import type { Resource } from '../../provenance/resource.js';
import { normaliseHost } from '../../provenance/host.js';
import type { LocalEndpoint, Verdict } from '../../provenance/peer-claim.js';
import { endsWithChunk, failCallback } from './write-args.js';
import { bindEmitsToContext, FLOW_CONTEXT, type ContextBound } from './context-binding.js';
import type { Patcher } from '../patcher.js';
import type { PeerFlows } from './peer-flows.js';
import { MEDIATED_MESSAGE, type MediatedMessage } from './mediated-writes.js';
import { HTTP1_RESPONSE, ResponseClaim } from './response-claim.js';
import { deniedProblem, PROBLEM_TYPE } from '../problem.js';
import { admitRequest, noteStatus, respondWithEvidence } from './monitor-gate.js';

const REQUEST_FLOW = Symbol('provenant.requestFlow');
const REQUEST_EVENTS: ReadonlySet<string | symbol> = new Set(['request', 'checkContinue', 'checkExpectation']);

interface RequestFlow {
  readonly ctx: FlowContext;
  readonly verdict: Verdict;
  /** Where the request came from and where the response goes. */
  readonly caller: Resource;
  readonly attributes: Attributes;
  /** The signed claim about the body, for a trusted caller. */
  readonly claim: ResponseClaim<http.ServerResponse> | undefined;
  entered: boolean;
  /** Why nothing more may be written to the response (it was refused). */
  denial: ProvenanceDeniedError | undefined;
}

const PEER = Symbol('provenant.peer');

interface Peer {
  readonly remote: string | undefined;
  readonly resource: Resource;
  readonly attributes: Attributes;
}

type PeerSocket = Socket & { [PEER]?: Peer };
type FlowRequest = http.IncomingMessage & ContextBound & { [REQUEST_FLOW]?: RequestFlow };
type FlowResponse = http.ServerResponse & ContextBound & MediatedMessage & { [REQUEST_FLOW]?: RequestFlow };
type Emit = (this: unknown, event: string | symbol, ...args: unknown[]) => boolean;

export function enableServerFlows(engine: FlowEngine, flows: PeerFlows, patcher: Patcher): void {
  // Loaded by now: the network part is enabled as the first of them loads (net/index.ts).
  const http = process.getBuiltinModule('node:http');
  const https = process.getBuiltinModule('node:https');
  const contexts = engine.contexts;
  const proto = http.ServerResponse.prototype;
  const writeHead = proto.writeHead as (...args: unknown[]) => unknown;
  const end = proto.end as (...args: unknown[]) => unknown;

  /** The caller's address, resource and attributes: per connection, so keep-alive requests reuse them. */
  const peerOf = (socket: PeerSocket | undefined): Peer => {
    const known = socket?.[PEER];
    if (known !== undefined) return known;
    const remote = socket?.remoteAddress !== undefined ? normaliseHost(socket.remoteAddress) : undefined;
    const peer: Peer = {
      remote,
      resource: engine.resources.peer(remote ?? 'unknown'),
      attributes: { 'network.peer.address': remote ?? '', 'network.peer.port': socket?.remotePort ?? 0 },
    };
    if (socket) socket[PEER] = peer;
    return peer;
  };

  const attach = (req: FlowRequest, res: FlowResponse): RequestFlow => {
    const { remote, resource: peer, attributes: peerAttributes } = peerOf(req.socket);
    // The route a request ran for names its OpenLineage job; the query may hold values, so only the path is kept.
    const attributes: Attributes = { ...peerAttributes, 'http.request.method': req.method ?? 'GET', 'url.path': requestPath(req.url) };
    const { verdict, claims, rest } = flows.protocol.receive(remote, req.headers.baggage, localEndpoint(req.socket));
    // Claims stop here: app code and other propagators (OTel's) never see or forward them.
    if (claims) {
      if (rest === undefined) delete req.headers.baggage;
      else req.headers.baggage = rest;
    }
    const ctx = contexts.create('request');
    const parent = flows.protocol.parseTraceparent(req.headers.traceparent);
    if (parent && ctx.kind === 'request') ctx.parentSpan = parent;
    const caller = flows.callerOf(verdict, peer);
    const flow: RequestFlow = {
      ctx,
      verdict,
      caller,
      attributes,
      claim: flows.protocol.signsFor(remote) ? new ResponseClaim(flows, remote, caller, HTTP1_RESPONSE) : undefined,
      entered: false,
      denial: undefined,
    };
    req[REQUEST_FLOW] = flow;
    res[REQUEST_FLOW] = flow;
    res[MEDIATED_MESSAGE] = true;
    req[FLOW_CONTEXT] = ctx;
    res[FLOW_CONTEXT] = ctx;
    return flow;
  };

  // Published before the server emits 'request' (and before any emit wrapper, OTel's included).
  const onRequestStart = (message: unknown): void => {
    try {
      const { request, response } = message as { request: FlowRequest; response: FlowResponse };
      if (request[REQUEST_FLOW] === undefined) attach(request, response);
    } catch (error) {
      diag.warn('provenant: reading an incoming request failed', error);
    }
  };
  dc.subscribe('http.server.request.start', onRequestStart);
  patcher.onRestore(() => dc.unsubscribe('http.server.request.start', onRequestStart));

  const enter = (flow: RequestFlow): void => {
    if (flow.entered) return;
    flow.entered = true;
    flows.read(flow.caller, flow.verdict, flow.attributes, true);
  };

  const serverEmit = (emit: Emit): Emit =>
    function (this: unknown, event: string | symbol): boolean {
      // Every server event passes here (connections too): `arguments` forwarded as they are.
      if (!REQUEST_EVENTS.has(event)) return Reflect.apply(emit, this, arguments) as boolean;
      const args = arguments as unknown as [event: string, req: FlowRequest, res: FlowResponse];
      const req = args[1];
      let flow: RequestFlow;
      try {
        flow = req[REQUEST_FLOW] ?? attach(req, args[2]);
      } catch (error) {
        diag.warn('provenant: reading an incoming request failed', error);
        return Reflect.apply(emit, this, args);
      }
      return contexts.runWith(flow.ctx, () => {
        // The caller's read is recorded from the first listener, inside every emit wrapper: an
        // OpenTelemetry HTTP instrumentation loaded before provenant wraps emit beneath this one,
        // and its server span is active only there; the lineage spans then join its trace.
        const server = this as http.Server;
        const onEvent = (): void => enter(flow);
        server.prependOnceListener(args[0], onEvent);
        try {
          const run = (): boolean => Reflect.apply(emit, this, args);
          return admitRequest(engine, req, args[2], run) ? run() : true;
        } finally {
          server.removeListener(args[0], onEvent);
          enter(flow);
        }
      });
    };
  patcher.wrap(http.Server.prototype as unknown as { emit: Emit }, 'emit', serverEmit);
  patcher.wrap(https.Server.prototype as unknown as { emit: Emit }, 'emit', serverEmit);

  const refuse = (res: FlowResponse, error: ProvenanceDeniedError): void => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = deniedProblem(error);
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    writeHead.call(res, 403, { 'content-type': PROBLEM_TYPE, 'content-length': Buffer.byteLength(body) });
    end.call(res, body);
  };

  /**
   * Decide the response flow in the current context; on deny, or when `body` bytes would carry
   * more than the claim already sent, send the refusal instead and return why.
   */
  const decideResponse = (res: FlowResponse, flow: RequestFlow, body: boolean): ProvenanceDeniedError | undefined => {
    const decision = engine.authorizeWrite(flow.caller, undefined, { attributes: flow.attributes });
    if (decision.kind === 'deny') return refuseWith(res, flow, engine.deniedError(decision, flow.caller));
    respondWithEvidence(engine, res);
    if (flow.claim === undefined || flow.claim.covers(res, flow.ctx.provenance, body)) return undefined;
    return refuseWith(res, flow, flow.claim.exceeded());
  };

  const refuseWith = (res: FlowResponse, flow: RequestFlow, error: ProvenanceDeniedError): ProvenanceDeniedError => {
    flow.denial = error;
    refuse(res, error);
    return error;
  };

  /**
   * Decide the response flow (memoised per context) in its request's context; `body`: the call
   * writes body bytes. Returns why the call must not happen, if it must not.
   */
  const denial = (res: FlowResponse, body: boolean): ProvenanceDeniedError | undefined => {
    const flow = res[REQUEST_FLOW];
    if (flow === undefined || flow.denial !== undefined) return flow?.denial;
    // Usually the handler already runs in the request's context: no closure, no context switch.
    if (contexts.current() === flow.ctx) return decideResponse(res, flow, body);
    return contexts.runWith(flow.ctx, () => decideResponse(res, flow, body));
  };

  patcher.wrap(
    proto,
    'writeHead',
    (original) =>
      function (this: FlowResponse): FlowResponse {
        // writeHead, write and end run for every response: `arguments` forwarded, no array per call.
        noteStatus(this, arguments[0]);
        if (denial(this, false) !== undefined) return this;
        return Reflect.apply(original, this, arguments) as FlowResponse;
      } as typeof original,
  );
  patcher.wrap(
    proto,
    'write',
    (original) =>
      function (this: FlowResponse): boolean {
        const error = denial(this, true);
        if (error !== undefined) {
          failCallback(arguments, error);
          return false;
        }
        return Reflect.apply(original, this, arguments) as boolean;
      } as typeof original,
  );
  patcher.wrap(
    proto,
    'end',
    (original) =>
      function (this: FlowResponse): FlowResponse {
        const error = denial(this, endsWithChunk(arguments));
        if (error !== undefined) {
          failCallback(arguments, error);
          return this;
        }
        return Reflect.apply(original, this, arguments) as FlowResponse;
      } as typeof original,
  );

  // A 103 Early Hints block goes out before the response's own headers: decided as the response
  // is (a denial sends the 403 refusal instead, and the hints never leave).
  patcher.wrap(
    proto,
    'writeEarlyHints',
    (original) =>
      function (this: FlowResponse, ...args: unknown[]): void {
        const error = denial(this, false);
        if (error !== undefined) {
          failCallback(args, error);
          return;
        }
        (original as (...a: unknown[]) => void).apply(this, args);
      },
  );

  bindEmitsToContext(patcher, http.IncomingMessage.prototype, contexts);
  bindEmitsToContext(patcher, http.ServerResponse.prototype, contexts);
}

function requestPath(url: string | undefined): string {
  if (url === undefined) return '/';
  const end = url.search(/[?#]/);
  return end < 0 ? url : url.slice(0, end);
}

/** Where the request arrived (the audience its claim must name); undefined when the socket does not say. */
export function localEndpoint(socket: Socket | undefined): LocalEndpoint | undefined {
  const address = socket?.localAddress;
  const port = socket?.localPort;
  return address === undefined || port === undefined ? undefined : { address, port };
}
