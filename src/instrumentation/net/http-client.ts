/**
 * HTTP/HTTPS clients: `http.request`/`get`, `https.request`/`get` and every library built on them
 * (axios, got, node-fetch, follow-redirects...). The request is a write flow to the origin,
 * decided before the ClientRequest exists: a denied request gets an agent that never connects
 * and fails with ERR_PROVENANCE_DENIED as its 'error' event. Allowed requests carry traceparent
 * and, to trusted peers only, signed provenant baggage; the response body is read into the
 * requesting context with the server's verified labels. The claim in the baggage covers the whole
 * body: it follows the context until the headers are sent (with the first body write), and a
 * later write whose context read more destroys the request with rule `claim-exceeded`, so the
 * server sees an aborted body, never a complete one labelled lower than it is.
 */
import http from 'node:http';
import https from 'node:https';
import { urlToHttpOptions } from 'node:url';
import type { Attributes } from '@opentelemetry/api';
import type { FlowEngine } from '../../engine/flow-engine.js';
import type { FlowContext } from '../../provenance/context.js';
import type { ProvenanceSet } from '../../provenance/provenance-set.js';
import type { Resource } from '../../provenance/resource.js';
import { normaliseHost } from '../../provenance/host.js';
import { FLOW_CONTEXT, inContext, type ContextBound } from './context-binding.js';
import type { Patcher } from '../patcher.js';
import { RESPONSE_CLAIM_HEADER, type PeerFlows } from './peer-flows.js';
import { endsWithChunk } from './end-chunk.js';
import { MEDIATED_MESSAGE, type MediatedMessage } from './mediated-writes.js';
import { EVIDENCE_HEADER } from '../../monitor/evidence.js';
import { receiveEvidence, sendEvidence } from './monitor-gate.js';
import { asHttpOwned, asTelemetrySocket } from './socket.js';
import type { AppTelemetry } from './app-telemetry.js';
import { redactUrl } from '../../provenance/url-redaction.js';

const CLIENT_FLOW = Symbol('provenant.clientFlow');
/** On the app's own OTLP export request: its sockets, made now or later by the agent, are not mediated. */
const TELEMETRY = Symbol('provenant.telemetry');

type Protocol = 'http' | 'https';
type RequestFunction = (...args: unknown[]) => http.ClientRequest;
type Callback = (...args: unknown[]) => void;

interface RequestTarget {
  protocol: Protocol;
  host: string;
  port: number;
  /** The call's options merged as http.request merges them (for the denied path). */
  options: http.RequestOptions;
  callback: Callback | undefined;
  attributes: Attributes;
}

interface ClientFlow {
  readonly ctx: FlowContext;
  readonly resource: Resource;
  readonly host: string;
  readonly attributes: Attributes;
  /** Context provenance the signed claim in the headers describes; undefined when none is sent. */
  claimed: ProvenanceSet | undefined;
  denied: boolean;
}

type FlowRequest = http.ClientRequest & ContextBound & MediatedMessage & { [CLIENT_FLOW]?: ClientFlow; [TELEMETRY]?: true };
/** Node's own path for a socket that could not be created: emits 'error' then 'close' on the next tick. */
type SocketlessRequest = http.ClientRequest & { onSocket(socket: null, error: Error): void };

export function enableClientFlows(engine: FlowEngine, flows: PeerFlows, patcher: Patcher, telemetry: AppTelemetry): void {
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

  const instrument = (original: RequestFunction, protocol: Protocol): RequestFunction =>
    function request(this: unknown, ...args: unknown[]): http.ClientRequest {
      const target = requestTarget(args, protocol);
      // No origin (a unix socketPath, bad input): the socket it opens is decided as what it reaches.
      if (target === undefined) return original.apply(this, args);
      const resource = engine.resources.http(target.protocol, target.host, target.port);
      if (telemetry.isExport(resource)) {
        const req: FlowRequest = asTelemetrySocket(() => original.apply(this, args));
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
        denied: false,
      };
      if (decision.kind === 'deny') {
        const error = engine.deniedError(decision, resource);
        flow.denied = true;
        // An agent that never connects: the request fails the way a refused connection would.
        const agent = {
          protocol: `${target.protocol}:`,
          defaultPort: target.port,
          addRequest: (req: SocketlessRequest) => req.onSocket(null, error),
        };
        const req: FlowRequest = original.call(this, { ...target.options, agent }, target.callback);
        req[CLIENT_FLOW] = flow;
        return req;
      }
      const req: FlowRequest = asHttpOwned(resource, () => original.apply(this, args));
      req[CLIENT_FLOW] = flow;
      req[MEDIATED_MESSAGE] = true;
      propagate(req, flow);
      return req;
    };

  /** Body writes are re-decided (memoised) in case the context read more since the request began; `body`: the call sends bytes. */
  const allowBody = (req: FlowRequest, body: boolean): boolean => {
    const flow = req[CLIENT_FLOW];
    if (flow === undefined) return true;
    if (flow.denied) return false;
    return inContext(contexts, flow.ctx, () => {
      const decision = engine.authorizeWrite(flow.resource, undefined, { attributes: flow.attributes });
      let error: Error | undefined;
      if (decision.kind === 'deny') error = engine.deniedError(decision, flow.resource);
      else if (flow.claimed !== flow.ctx.provenance) error = outgrown(req, flow, body);
      if (error === undefined) return true;
      flow.denied = true;
      req.destroy(error);
      return false;
    });
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
        if (!allowBody(this, true)) return false;
        return (original as (...a: unknown[]) => boolean).apply(this, args);
      } as typeof original,
  );
  patcher.wrap(
    proto,
    'end',
    (original) =>
      function (this: FlowRequest, ...args: unknown[]): FlowRequest {
        if (!allowBody(this, endsWithChunk(args)) && this.destroyed) return this;
        return (original as (...a: unknown[]) => FlowRequest).apply(this, args);
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

/** Where a request call goes, following http.request's argument rules; undefined for IPC or bad input. */
function requestTarget(args: readonly unknown[], module: Protocol): RequestTarget | undefined {
  try {
    const input = args[0];
    let [, options, callback] = args;
    let base: Record<string, unknown> | undefined;
    if (typeof input === 'string') base = urlToHttpOptions(new URL(input)) as Record<string, unknown>;
    else if (input instanceof URL) base = urlToHttpOptions(input) as Record<string, unknown>;
    else {
      callback = options;
      options = input;
    }
    let merged: Record<string, unknown>;
    if (typeof options === 'function') {
      callback = options;
      merged = { ...(base ?? {}) };
    } else {
      merged = { ...(base ?? {}), ...((options as Record<string, unknown> | undefined) ?? {}) };
    }
    if (merged['socketPath'] !== undefined) return undefined;
    const agent = merged['agent'] as { protocol?: string; defaultPort?: number } | false | undefined;
    const protocolText = (merged['protocol'] as string | undefined) ?? (agent ? agent.protocol : undefined) ?? `${module}:`;
    const protocol: Protocol = protocolText === 'https:' ? 'https' : 'http';
    const host = normaliseHost(optionText(merged['hostname'] ?? merged['host'], 'localhost'));
    const port =
      Number(merged['port']) ||
      Number(merged['defaultPort']) ||
      (agent ? agent.defaultPort : undefined) ||
      (protocol === 'https' ? 443 : 80);
    const path = optionText(merged['path'], '/');
    return {
      protocol,
      host,
      port,
      options: merged,
      callback: typeof callback === 'function' ? (callback as Callback) : undefined,
      attributes: {
        'server.address': host,
        'server.port': port,
        'http.request.method': optionText(merged['method'], 'GET').toUpperCase(),
        'url.full': redactUrl(`${protocol}://${host.includes(':') ? `[${host}]` : host}:${port}${path}`),
      },
    };
  } catch {
    return undefined;
  }
}

/** A request option as text; a non-string (which http.request would reject anyway) reads as the default. */
function optionText(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : fallback;
}
