/**
 * Requests through a dispatcher the app made itself (npm undici's `Client`, `Pool`, `Agent`,
 * `setGlobalDispatcher`, fetch's `init.dispatcher`): provenant's interceptor is not composed onto
 * them, but undici publishes every request it creates on `undici:request:create`, synchronously
 * inside the app's dispatch, so the requesting context is the current one. Each is decided there
 * as a flow to `http(s)://host:port`, before undici queues it: a request queued behind another on
 * a busy connection is written later from whatever context frees the connection, so deciding at
 * the socket write alone would judge it with the wrong context. A denied request is failed through
 * its own handler (undici's `request.onError`: the promise rejects, fetch rejects with the error
 * as `cause`) and is marked aborted, so undici never writes it. As with fetch, a request gets a
 * traceparent, and one to a trusted peer provenant's signed baggage. The response is read into
 * the requesting context when undici publishes its headers (`undici:request:headers`, before the
 * app's handler sees them), with the server's signed claim when it is a trusted peer; the
 * socket-level read of the same bytes knows only the address's configured labels.
 */
import { AsyncResource } from 'node:async_hooks';
import dc from 'node:diagnostics_channel';
import { diag, type Attributes } from '@opentelemetry/api';
import type { FlowEngine } from '../../engine/flow-engine.js';
import { redactUrl } from '../../provenance/url-redaction.js';
import { BoundedCache } from '../../support/bounded-cache.js';
import type { FlowContext } from '../../provenance/context.js';
import type { Resource } from '../../provenance/resource.js';
import type { Patcher } from '../patcher.js';
import { inContext } from './context-binding.js';
import { RESPONSE_CLAIM_HEADER, type PeerFlows } from './peer-flows.js';
import { originOf, type Origin } from './undici-origin.js';
import { indicesOf, type ForeignRequest, type HeaderList, type PreparedRequest, type UndiciRequest } from './undici-request.js';

const RESPONSE_HEADERS = 'undici:request:headers';

/** An allowed request whose response is still to be read into the context that made it. */
interface Awaited {
  readonly ctx: FlowContext;
  readonly resource: Resource;
  readonly host: string;
  readonly attributes: Attributes;
}

export function decideDispatcherRequests(engine: FlowEngine, flows: PeerFlows, patcher: Patcher): ForeignRequest {
  const origins = new BoundedCache<string, Origin | null>(1024);
  const awaiting = new WeakMap<object, Awaited>();

  // Never throws: recording a read fails open (with a warning), like every read.
  const onHeaders = (message: unknown): void => {
    try {
      const { request, response } = message as { request: object; response: { statusCode: number; headers: unknown } };
      const awaited = awaiting.get(request);
      if (awaited === undefined || response.statusCode < 200) return;
      awaiting.delete(request);
      const claim = headerValue(response.headers, RESPONSE_CLAIM_HEADER);
      const attributes = { ...awaited.attributes, 'http.response.status_code': response.statusCode };
      inContext(engine.contexts, awaited.ctx, () =>
        flows.read(awaited.resource, flows.protocol.verify(awaited.host, claim), attributes, false),
      );
    } catch (error) {
      diag.warn("provenant: reading the response of an app dispatcher's request failed", error);
    }
  };
  dc.subscribe(RESPONSE_HEADERS, onHeaders);
  patcher.onRestore(() => dc.unsubscribe(RESPONSE_HEADERS, onHeaders));

  const decide = (request: UndiciRequest): PreparedRequest | undefined => {
    const origin = originOf(typeof request.origin === 'string' ? request.origin : undefined, origins);
    if (origin === undefined) return undefined;
    const resource = engine.resources.http(origin.protocol, origin.host, origin.port);
    const path = typeof request.path === 'string' ? request.path : '';
    const attributes: Attributes = {
      'server.address': origin.host,
      'server.port': origin.port,
      'http.request.method': typeof request.method === 'string' ? request.method : 'GET',
      'url.full': redactUrl(`${String(request.origin)}${path}`),
    };
    const decision = engine.authorizeWrite(resource, undefined, { attributes });
    if (decision.kind === 'deny') {
      request.onError?.(engine.deniedError(decision, resource));
      return undefined;
    }
    awaiting.set(request, { ctx: engine.contexts.current(), resource, host: origin.host, attributes });
    // undici 7 keeps headers as a flat list; an older shape gets the decision but no headers.
    if (!Array.isArray(request.headers) || typeof request.addHeader !== 'function') return undefined;
    // As for fetch: traceparent to any destination (unless the app set one), the claim only to a trusted peer.
    let traceparent: string | undefined;
    const span = engine.writeSpan(resource);
    if (span && indicesOf(request.headers as HeaderList, 'traceparent').length === 0) {
      traceparent = flows.protocol.formatTraceparent(span);
      request.addHeader('traceparent', traceparent);
    }
    const data = flows.claimFor(origin.host, resource);
    const baggage = data === undefined ? undefined : flows.baggage(origin.host, undefined, data);
    if (baggage !== undefined) request.addHeader('baggage', baggage);
    // Even without a claim: provenant members the app put in its own baggage are stripped.
    return { host: origin.host, data, traceparent, baggage };
  };

  // Never throws (a diagnostics_channel subscriber's exception would crash the app); a fault
  // fails the request, since letting it through unchecked could be a false allow.
  return (request) => {
    try {
      const creator = creatorOf(request);
      return creator === undefined ? decide(request) : creator.runInAsyncScope(decide, undefined, request);
    } catch (error) {
      request.onError?.(error instanceof Error ? error : new Error(String(error)));
      return undefined;
    }
  };
}

/** Per undici copy (its Request prototype): the symbol its requests keep their handler under, or null. */
const handlerKeys = new WeakMap<object, symbol | null>();

/**
 * The handler of undici's `request`/`stream`/`pipeline`/`upgrade`/`connect` API an undici request
 * was made with: an AsyncResource created, in the app's call, in the context that made the
 * request. A dispatcher provenant never saw (a copy of undici its require hook missed) holds a
 * queued request and creates it when a connection frees up, in that moment's context; running the
 * decision in the handler's scope judges it by the context that made it. The key is undici's
 * private `Symbol('handler')`, found once per copy.
 */
function creatorOf(request: UndiciRequest): AsyncResource | undefined {
  const proto = Object.getPrototypeOf(request) as object | null;
  if (proto === null) return undefined;
  let key = handlerKeys.get(proto);
  if (key === undefined) {
    key = Object.getOwnPropertySymbols(request).find((symbol) => symbol.description === 'handler') ?? null;
    handlerKeys.set(proto, key);
  }
  const handler = key === null ? undefined : (request as unknown as Record<symbol, unknown>)[key];
  return handler instanceof AsyncResource ? handler : undefined;
}

/** The value of header `name` in undici's raw response headers ([name, value, ...] as Buffers or strings). */
function headerValue(headers: unknown, name: string): string | undefined {
  if (!Array.isArray(headers)) return undefined;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (String(headers[i]).toLowerCase() === name) return String(headers[i + 1]);
  }
  return undefined;
}
