/**
 * HTTP/HTTPS clients: `http.request`/`get`, `https.request`/`get`, `new http.ClientRequest()`, and
 * every library built on them (axios, got, node-fetch, follow-redirects...). The request is a write flow to the origin,
 * decided before the ClientRequest exists: a denied request gets an agent that never connects
 * and fails with ERR_PROVENANCE_DENIED as its 'error' event. Allowed requests carry traceparent
 * and, to trusted peers only, signed provenant baggage; the response body is read into the
 * requesting context with the server's verified labels. The claim in the baggage covers the whole
 * body: it follows the context until the headers are sent (with the first body write), and a
 * later write whose context read more destroys the request with rule `claim-exceeded`, so the
 * server sees an aborted body, never a complete one labelled lower than it is. (Over 250 lines:
 * creation, propagation and body writes share one per-request flow state; split, each would
 * export it.)
 */
import type http from 'node:http';
import type { Attributes } from '@opentelemetry/api';
import type { FlowEngine } from '../../engine/flow-engine.js';
import type { FlowContext } from '../../provenance/context.js';
import type { ProvenanceSet } from '../../provenance/provenance-set.js';
import type { Resource } from '../../provenance/resource.js';
import { FLOW_CONTEXT, inContext, type ContextBound } from './context-binding.js';
import type { Patcher } from '../patcher.js';
import { RESPONSE_CLAIM_HEADER, type PeerFlows } from './peer-flows.js';
import { endsWithChunk, failCallback } from './write-args.js';
import { MEDIATED_MESSAGE, SOCKET_CHECK, type MediatedMessage } from './mediated-writes.js';
import { EVIDENCE_HEADER } from '../../monitor/evidence.js';
import { outgoingEvidence, receiveEvidence, sendEvidence } from './monitor-gate.js';
import { asHttpOwned, asTelemetrySocket, socketDestinations } from './socket.js';
import type { AppTelemetry } from './app-telemetry.js';
import { headerEntries, requestTarget, type Protocol, type RequestTarget } from './request-target.js';

const CLIENT_FLOW = Symbol('provenant.clientFlow');
/** On the app's own OTLP export request: its sockets, made now or later by the agent, are not mediated. */
const TELEMETRY = Symbol('provenant.telemetry');

type RequestFunction = (...args: unknown[]) => http.ClientRequest;

interface ClientFlow {
  readonly ctx: FlowContext;
  readonly resource: Resource;
  readonly host: string;
  readonly attributes: Attributes;
  /** Context provenance the signed claim in the headers describes; undefined when none is sent. */
  claimed: ProvenanceSet | undefined;
  /** Why this request may send nothing more (its creation or a body write was denied). */
  denial: Error | undefined;
}

type FlowRequest = http.ClientRequest & ContextBound & MediatedMessage & { [CLIENT_FLOW]?: ClientFlow; [TELEMETRY]?: true };
/** Node's own path for a socket that could not be created: emits 'error' then 'close' on the next tick. */
type SocketlessRequest = http.ClientRequest & { onSocket(socket: null, error: Error): void };

export function enableClientFlows(engine: FlowEngine, flows: PeerFlows, patcher: Patcher, telemetry: AppTelemetry): void {
  // Loaded by now: the network part is enabled as the first of them loads (net/index.ts).
  const http = process.getBuiltinModule('node:http');
  const https = process.getBuiltinModule('node:https');
  const contexts = engine.contexts;

  /** traceparent (unless another instrumentation set one) and the baggage for this destination. */
  const propagate = (req: FlowRequest, flow: ClientFlow): void => {
    if (req.headersSent) return;
    if (!req.hasHeader('traceparent')) {
      const span = engine.writeSpan(flow.resource);
      if (span) req.setHeader('traceparent', flows.protocol.formatTraceparent(span));
    }
    const existing = req.getHeader('baggage');
    const claim = flows.claimFor(flow.host, flow.resource);
    flow.claimed = claim === undefined ? undefined : contexts.current().provenance;
    const baggage = flows.baggage(flow.host, typeof existing === 'number' ? String(existing) : existing, claim);
    if (baggage !== undefined) req.setHeader('baggage', baggage);
    else if (existing !== undefined) req.removeHeader('baggage');
    if (claim !== undefined) sendEvidence(engine, req);
  };

  /**
   * Node fixes the header block while constructing the request when its headers are an array (raw
   * `[name, value, ...]` or `[[name, value], ...]`) or include `expect`, before `propagate` could
   * set anything: traceparent, the merged and signed baggage and the evidence go into the options
   * first, in the shape the app gave (the arguments to create the request with, else undefined).
   */
  const withEarlyPropagation = (target: RequestTarget, flow: ClientFlow): unknown[] | undefined => {
    const headers = target.options.headers as unknown;
    const entries = headerEntries(headers);
    if (entries === undefined || (!Array.isArray(headers) && !entries.some(([name]) => name.toLowerCase() === 'expect'))) return undefined;
    const given: [string, unknown][] = [];
    const baggage: string[] = [];
    for (const entry of entries) {
      const [name, value] = entry;
      if (name.toLowerCase() === 'baggage') baggage.push(...(Array.isArray(value) ? value.map(String) : [String(value)]));
      else given.push(entry);
    }
    if (!entries.some(([name]) => name.toLowerCase() === 'traceparent')) {
      const span = engine.writeSpan(flow.resource);
      if (span) given.push(['traceparent', flows.protocol.formatTraceparent(span)]);
    }
    const claim = flows.claimFor(flow.host, flow.resource);
    flow.claimed = claim === undefined ? undefined : contexts.current().provenance;
    const merged = flows.baggage(flow.host, baggage.length === 0 ? undefined : baggage, claim);
    if (merged !== undefined) given.push(['baggage', merged]);
    const evidence = claim === undefined ? undefined : outgoingEvidence(engine);
    if (evidence !== undefined) given.push([EVIDENCE_HEADER, evidence]);
    const shaped = !Array.isArray(headers) ? Object.fromEntries(given) : Array.isArray(headers[0]) ? given : given.flat();
    return [{ ...target.options, headers: shaped }, target.callback];
  };

  /** A request made by `create` from `args` (http.request's arguments), decided before it exists. */
  const mediate = (create: (args: unknown[]) => http.ClientRequest, args: unknown[], protocol: Protocol): http.ClientRequest => {
    const target = requestTarget(args, protocol);
    // No origin (a unix socketPath, bad input): the socket it opens is decided as what it reaches.
    if (target === undefined) return create(args);
    const resource = engine.resources.http(target.protocol, target.host, target.port);
    if (telemetry.isExport(resource, target.host, target.port, target.options)) {
      const req: FlowRequest = asTelemetrySocket(() => create(args));
      req[TELEMETRY] = true;
      return req;
    }
    const decision = engine.authorizeWrite(resource, undefined, { attributes: target.attributes });
    const flow: ClientFlow = {
      ctx: contexts.current(),
      resource,
      host: target.host,
      attributes: target.attributes,
      claimed: undefined,
      denial: undefined,
    };
    if (decision.kind === 'deny') {
      const error = engine.deniedError(decision, resource);
      flow.denial = error;
      // An agent that never connects: the request fails the way a refused connection would.
      const agent = {
        protocol: `${target.protocol}:`,
        defaultPort: target.port,
        addRequest: (req: SocketlessRequest) => req.onSocket(null, error),
      };
      const req: FlowRequest = create([{ ...target.options, agent }, target.callback]);
      req[CLIENT_FLOW] = flow;
      return req;
    }
    const req: FlowRequest = asHttpOwned(resource, () => create(withEarlyPropagation(target, flow) ?? args));
    req[CLIENT_FLOW] = flow;
    req[MEDIATED_MESSAGE] = true;
    req[SOCKET_CHECK] = () => socketDenial(req, flow);
    propagate(req, flow);
    return req;
  };

  const instrument = (original: RequestFunction, protocol: Protocol): RequestFunction =>
    function request(this: unknown, ...args: unknown[]): http.ClientRequest {
      return mediate((given) => original.apply(this, given), args, protocol);
    };

  /**
   * Body writes are re-decided (memoised) in case the context read more since the request began;
   * `body`: the call sends bytes. Returns why the write must not happen, if it must not.
   */
  const bodyDenial = (req: FlowRequest, body: boolean): Error | undefined => {
    const flow = req[CLIENT_FLOW];
    if (flow === undefined || flow.denial !== undefined) return flow?.denial;
    return inContext(contexts, flow.ctx, () => {
      const decision = engine.authorizeWrite(flow.resource, undefined, { attributes: flow.attributes });
      let error: Error | undefined;
      if (decision.kind === 'deny') error = engine.deniedError(decision, flow.resource);
      else if (flow.claimed !== flow.ctx.provenance) error = outgrown(req, flow, body);
      if (error === undefined) return undefined;
      flow.denial = error;
      req.destroy(error);
      return error;
    });
  };

  /**
   * Where the request's socket really goes (a `createConnection` or `lookup` dialling elsewhere than
   * the origin) is decided too, with the request's context, as its bytes reach the socket.
   */
  const socketDenial = (req: FlowRequest, flow: ClientFlow): Error | undefined => {
    if (flow.denial !== undefined) return flow.denial;
    for (const resource of socketDestinations(req.socket)) {
      if (resource === flow.resource) continue;
      const error = inContext(contexts, flow.ctx, () => {
        const decision = engine.authorizeWrite(resource, undefined, { attributes: flow.attributes });
        return decision.kind === 'deny' ? engine.deniedError(decision, resource) : undefined;
      });
      if (error !== undefined) return (flow.denial = error);
    }
    return undefined;
  };

  /** The context read more than the claim says: follow it while the headers are unsent; once sent, body bytes are refused. */
  const outgrown = (req: FlowRequest, flow: ClientFlow, body: boolean): Error | undefined => {
    if (flow.claimed === undefined) return undefined;
    if (req.headersSent) return body ? flows.claimExceeded(flow.claimed, flow.resource) : undefined;
    propagate(req, flow);
    return undefined;
  };

  const onResponse = (flow: ClientFlow, res: http.IncomingMessage & ContextBound): void => {
    res[FLOW_CONTEXT] = flow.ctx;
    receiveEvidence(engine, flow.ctx, res.headers[EVIDENCE_HEADER]);
    const header = res.headers[RESPONSE_CLAIM_HEADER];
    const verdict = flows.protocol.verify(flow.host, header);
    flows.read(flow.resource, verdict, { ...flow.attributes, 'http.response.status_code': res.statusCode ?? 0 }, false);
  };

  const proto = http.ClientRequest.prototype;
  patcher.wrap(
    proto,
    'emit',
    (emit) =>
      function (this: unknown, ...args: [event: string | symbol, ...rest: unknown[]]): boolean {
        // Every request's events pass here: forward the rest array as it is.
        const flow = (this as FlowRequest)[CLIENT_FLOW];
        if (flow === undefined) return emit.apply(this, args);
        return inContext(contexts, flow.ctx, () => {
          if (args[0] === 'response') onResponse(flow, args[1] as http.IncomingMessage);
          return emit.apply(this, args);
        });
      },
  );
  patcher.wrap(
    proto,
    'write',
    (original) =>
      function (this: FlowRequest, ...args: unknown[]): boolean {
        const denial = bodyDenial(this, true);
        if (denial === undefined) return (original as (...a: unknown[]) => boolean).apply(this, args);
        failCallback(args, denial);
        return false;
      } as typeof original,
  );
  patcher.wrap(
    proto,
    'end',
    (original) =>
      function (this: FlowRequest, ...args: unknown[]): FlowRequest {
        // A request denied at creation ends as Node ends one whose connection failed.
        const denial = bodyDenial(this, endsWithChunk(args));
        if (denial === undefined || !this.destroyed) return (original as (...a: unknown[]) => FlowRequest).apply(this, args);
        failCallback(args, denial);
        return this;
      } as typeof original,
  );

  // A request waiting for a pooled socket gets a new one later, outside http.request: it is still
  // the socket of the origin the request decided, opened in the request's context.
  patcher.wrap(
    http.Agent.prototype as unknown as { createSocket: (...args: unknown[]) => unknown },
    'createSocket',
    (createSocket) =>
      function (this: unknown, ...args: unknown[]): unknown {
        const req = args[0] as FlowRequest | undefined;
        if (req?.[TELEMETRY] === true) return asTelemetrySocket(() => createSocket.apply(this, args));
        const flow = req?.[CLIENT_FLOW];
        if (flow === undefined) return createSocket.apply(this, args);
        return inContext(contexts, flow.ctx, () => asHttpOwned(flow.resource, () => createSocket.apply(this, args)));
      },
  );

  // `new http.ClientRequest(...)` used directly (http.request's own `new` uses Node's internal
  // reference, so nothing is decided twice). A subclass is constructed as itself, decided the same way.
  const ClientRequest = http.ClientRequest;
  const mediatedClientRequest: typeof http.ClientRequest = new Proxy(ClientRequest, {
    construct: (target, args: unknown[], newTarget: new (...a: unknown[]) => object) =>
      mediate(
        (given) => Reflect.construct(target, given, newTarget === mediatedClientRequest ? target : newTarget) as http.ClientRequest,
        args,
        'http',
      ),
  });
  patcher.define(http, 'ClientRequest', mediatedClientRequest);

  for (const [module, protocol] of [
    [http, 'http'],
    [https, 'https'],
  ] as const) {
    const request = instrument(module.request as RequestFunction, protocol);
    patcher.define(module, 'request', request);
    // As Node's own get: request + end (Node's calls its internal request, bypassing the export).
    patcher.define(module, 'get', function get(this: unknown, ...args: unknown[]): http.ClientRequest {
      const req = request.apply(this, args);
      req.end();
      return req;
    });
  }
}
