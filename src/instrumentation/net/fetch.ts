/**
 * Global `fetch` (Node's bundled undici) and anything else using undici's global dispatcher.
 * An interceptor in front of the global dispatcher decides each request before undici looks
 * for a connection: a denied one fails through the handler (fetch rejects with a TypeError whose
 * `cause` is the ProvenanceDeniedError) and opens nothing. Node creates that dispatcher lazily,
 * and provenant composes onto it when it is created (undici-loading.ts). Headers other instrumentations inject later are merged
 * with provenant's (undici-request.ts). A body undici pulls chunk by chunk (fetch hands it every
 * body that way) is re-decided before each chunk, and a chunk read after the signed claim was
 * fixed (at dispatch) fails the request with rule `claim-exceeded`.
 */
import type { Attributes } from '@opentelemetry/api';
import type { FlowEngine } from '../../engine/flow-engine.js';
import type { FlowOptions } from '../../engine/recorder.js';
import type { FlowContext } from '../../provenance/context.js';
import type { ProvenanceSet } from '../../provenance/provenance-set.js';
import type { Resource } from '../../provenance/resource.js';
import { BoundedCache } from '../../support/bounded-cache.js';
import { inContext } from './context-binding.js';
import type { Patcher } from '../patcher.js';
import { EVIDENCE_HEADER } from '../../monitor/evidence.js';
import { outgoingEvidence, receiveEvidence } from './monitor-gate.js';
import { RESPONSE_CLAIM_HEADER, type PeerFlows } from './peer-flows.js';
import { handOverUpgraded, HTTP_SOCKET } from './socket.js';
import { mergeInjectedHeaders, type PreparedRequest } from './undici-request.js';
import { originOf, type Origin } from './undici-origin.js';
import { decideDispatcherRequests } from './dispatcher-requests.js';
import { keepRequestContexts, markRequestContext } from './dispatcher-context.js';
import { redactUrl } from '../../provenance/url-redaction.js';
import { GLOBAL_DISPATCHER, whenUndiciLoads } from './undici-loading.js';
import { isLegacyHandler, LegacyResponseReader, type Headers, type LegacyHandler } from './undici-legacy-handler.js';

interface DispatchOptions {
  origin?: string | URL;
  path?: string;
  method?: string;
  headers?: unknown;
  body?: unknown;
}

/** undici's handler API (v7), as interceptors receive it. */
interface DispatchHandler {
  onRequestStart?(controller: unknown, context: unknown): void;
  onRequestUpgrade?(controller: unknown, statusCode: number, headers: Headers, socket: unknown): void;
  onResponseStart?(controller: unknown, statusCode: number, headers: Headers, statusMessage?: string): void;
  onResponseData?(controller: unknown, chunk: Buffer): void;
  onResponseEnd?(controller: unknown, trailers: Headers): void;
  onResponseError?(controller: unknown, error: Error): void;
}

type Dispatch = (options: DispatchOptions, handler: DispatchHandler | LegacyHandler) => boolean;

interface Dispatcher {
  dispatch: Dispatch;
}

type LazyAttributes = FlowOptions['attributes'];

/** The response headers provenant reads (readResponse). */
const READ_HEADERS = [EVIDENCE_HEADER, RESPONSE_CLAIM_HEADER];

type DispatcherGlobal = typeof globalThis & { [GLOBAL_DISPATCHER]?: Dispatcher };

export function enableFetchFlows(engine: FlowEngine, flows: PeerFlows, patcher: Patcher): void {
  const contexts = engine.contexts;
  const origins = new BoundedCache<string, Origin | null>(1024);
  const dispatchPrepared = mergeInjectedHeaders(flows, patcher, decideDispatcherRequests(engine, flows, patcher));
  // Requests a dispatcher queues are decided in the context that made them (dispatcher-context.ts).
  const keepContexts = keepRequestContexts(contexts, patcher);

  const interceptor = (dispatch: Dispatch): Dispatch =>
    function provenantDispatch(options: DispatchOptions, handler: DispatchHandler | LegacyHandler): boolean {
      const origin = originOf(options.origin, origins);
      if (origin === undefined) return dispatch(options, handler);
      const resource = engine.resources.http(origin.protocol, origin.host, origin.port);
      const { origin: given, path = '', method = 'GET' } = options;
      // Made only when the flow is recorded: a request repeating a recorded flow redacts no URL.
      const attributes = (): Attributes => ({
        'server.address': origin.host,
        'server.port': origin.port,
        'http.request.method': method,
        'url.full': redactUrl(`${String(given)}${path}`),
      });
      const decision = engine.authorizeWrite(resource, undefined, { attributes });
      if (decision.kind === 'deny') {
        const denied = engine.deniedError(decision, resource);
        if (isLegacyHandler(handler)) handler.onError?.(denied);
        else handler.onResponseError?.(null, denied);
        return true;
      }
      const ctx = contexts.current();
      const { headers, prepared } = propagationHeaders(options.headers, origin.host, resource);
      const onStart = (responseHeaders: Headers, statusCode: number): void =>
        readResponse(ctx, resource, origin.host, responseHeaders, () => ({ ...attributes(), 'http.response.status_code': statusCode }));
      const reader = isLegacyHandler(handler)
        ? new LegacyResponseReader(handler, onStart, READ_HEADERS)
        : new ResponseReader(handler, onStart);
      const claimed = prepared.data === undefined ? undefined : ctx.provenance;
      const body = checkedBody(options.body, () => bodyError(ctx, resource, attributes, claimed));
      // The copy is provenant's own: marked with its context here, the dispatcher does not copy it again.
      return dispatchPrepared(prepared, () => dispatch(markRequestContext({ ...options, headers, body }, ctx), reader));
    };

  /** Why the next body chunk must not leave: the flow is denied now, or the context outgrew the claim sent. */
  const bodyError = (
    ctx: FlowContext,
    resource: Resource,
    attributes: LazyAttributes,
    claimed: ProvenanceSet | undefined,
  ): Error | undefined =>
    inContext(contexts, ctx, () => {
      const decision = engine.authorizeWrite(resource, undefined, { attributes });
      if (decision.kind === 'deny') return engine.deniedError(decision, resource);
      return claimed === undefined || claimed === ctx.provenance ? undefined : flows.claimExceeded(claimed, resource);
    });

  /** traceparent (unless the app set one) and the baggage for this destination. */
  const propagationHeaders = (given: unknown, host: string, resource: Resource): { headers: Headers; prepared: PreparedRequest } => {
    const headers = headerRecord(given);
    let traceparent: string | undefined;
    if (headers['traceparent'] === undefined) {
      const span = engine.writeSpan(resource);
      if (span) headers['traceparent'] = traceparent = flows.protocol.formatTraceparent(span);
    }
    const data = flows.claimFor(host, resource);
    const baggage = flows.baggage(host, headers['baggage'], data);
    if (baggage !== undefined) headers['baggage'] = baggage;
    else delete headers['baggage'];
    const evidence = data === undefined ? undefined : outgoingEvidence(engine);
    if (evidence !== undefined) headers[EVIDENCE_HEADER] = evidence;
    return { headers, prepared: { host, data, traceparent, baggage } };
  };

  const readResponse = (ctx: FlowContext, resource: Resource, host: string, headers: Headers, attributes: LazyAttributes): void => {
    receiveEvidence(engine, ctx, headers[EVIDENCE_HEADER]);
    inContext(contexts, ctx, () => flows.read(resource, flows.protocol.verify(host, headers[RESPONSE_CLAIM_HEADER]), attributes, false));
  };

  const target = globalThis as DispatcherGlobal;
  const install = (installedDefault: boolean): void => {
    const current = target[GLOBAL_DISPATCHER];
    if (current === undefined) return;
    const previous = current;
    keepContexts(current);
    // The default dispatcher is replaced by an equal one whose sockets are marked as HTTP-owned.
    const AgentClass = current.constructor as new (options: object) => Dispatcher;
    const base = installedDefault && AgentClass.name === 'Agent' ? new AgentClass({ connect: { [HTTP_SOCKET]: true } }) : current;
    target[GLOBAL_DISPATCHER] = intercepted(base, interceptor);
    patcher.onRestore(() => {
      target[GLOBAL_DISPATCHER] = previous;
    });
  };

  // Composed as soon as undici exists (undici-loading.ts): composing onto a dispatcher created later
  // than Node's default would record its sockets twice, as HTTP and as raw TCP flows.
  whenUndiciLoads(patcher, install);
}

/**
 * `base` with `interceptor` in front of its dispatch, as undici's `compose` makes it, less the
 * adapter `compose` puts around every handler: fetch's handler has the older API (raw header
 * lists), and through that adapter each response's headers went from raw to a record to raw
 * again and were parsed once more by fetch (about 3.5 KB allocated per request). The interceptor
 * takes either API and hands the dispatcher the handler's own.
 */
function intercepted(base: Dispatcher, interceptor: (dispatch: Dispatch) => Dispatch): Dispatcher {
  const dispatch = interceptor(base.dispatch.bind(base));
  return new Proxy(base, { get: (target, key) => (key === 'dispatch' ? dispatch : (Reflect.get(target, key) as unknown)) });
}

/** Forwards every callback, reading the response into the requesting context before the app sees it. */
class ResponseReader implements DispatchHandler {
  constructor(
    private readonly inner: DispatchHandler,
    private readonly onStart: (headers: Headers, statusCode: number) => void,
  ) {}

  onRequestStart(controller: unknown, context: unknown): void {
    this.inner.onRequestStart?.(controller, context);
  }

  onRequestUpgrade(controller: unknown, statusCode: number, headers: Headers, socket: unknown): void {
    // The socket now belongs to the app (a WebSocket): its writes are the app's, decided per write.
    if (socket instanceof process.getBuiltinModule('node:net').Socket) handOverUpgraded(socket);
    this.inner.onRequestUpgrade?.(controller, statusCode, headers, socket);
  }

  onResponseStart(controller: unknown, statusCode: number, headers: Headers, statusMessage?: string): void {
    if (statusCode >= 200) this.onStart(headers, statusCode);
    this.inner.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: unknown, chunk: Buffer): void {
    this.inner.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: unknown, trailers: Headers): void {
    this.inner.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: unknown, error: Error): void {
    this.inner.onResponseError?.(controller, error);
  }
}

/** `body` with `check` run before each chunk it yields (a failed check fails the request); other bodies as they are. */
function checkedBody(body: unknown, check: () => Error | undefined): unknown {
  if (typeof body !== 'object' || body === null || !(Symbol.asyncIterator in body)) return body;
  const chunks = (body as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  return (async function* () {
    for (;;) {
      const next = await chunks.next();
      if (next.done === true) return;
      const error = check();
      if (error) {
        // Not awaited (for-await would): fetch's stream source may settle its cancel only later.
        chunks.return?.().catch(() => undefined);
        throw error;
      }
      yield next.value;
    }
  })();
}

/** undici accepts headers as a record, a flat [name, value, ...] array or an iterable of pairs. */
function headerRecord(given: unknown): Headers {
  const headers: Headers = {};
  const add = (name: unknown, value: unknown): void => {
    const key = lowerCase(String(name));
    const text = Array.isArray(value) ? value.map(String) : typeof value === 'string' ? value : String(value);
    const previous = headers[key];
    headers[key] = previous === undefined ? text : ([] as string[]).concat(previous, text);
  };
  if (given === null || given === undefined) return headers;
  if (Array.isArray(given)) {
    if (given.length > 0 && Array.isArray(given[0])) for (const [name, value] of given as [unknown, unknown][]) add(name, value);
    else for (let i = 0; i + 1 < given.length; i += 2) add(given[i], given[i + 1]);
  } else if (typeof (given as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const [name, value] of given as Iterable<[unknown, unknown]>) add(name, value);
  } else {
    // fetch's own headers: a record of lower-case names, copied without a pair per header
    const record = given as Record<string, unknown>;
    for (const name in record) if (Object.hasOwn(record, name) && record[name] !== undefined) add(name, record[name]);
  }
  return headers;
}

/** `name` in lower case; the same string when it already is (fetch's names are), so nothing is allocated. */
function lowerCase(name: string): string {
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code >= 65 && code <= 90) return name.toLowerCase();
  }
  return name;
}
