/**
 * One traceparent and one baggage header per fetch request, whoever else injects them.
 * OpenTelemetry's undici instrumentation (like anything following undici's diagnostics-channel
 * documentation) adds `traceparent` and `baggage` with `request.addHeader` in an
 * `undici:request:create` subscriber, which runs after provenant's interceptor turned its
 * dispatch options into the request's headers: left alone, the request carries two of each.
 * Subscription order cannot fix that (provenant subscribes at preload, before the app's
 * instrumentation), and the handler's start callback is too late (HTTP/2 copies the headers
 * before it). So for each request provenant prepared, the headers an earlier subscriber added are
 * merged when the request is published and later ones as they are added: the other
 * instrumentation's traceparent replaces provenant's (its client span is the nearer parent; the
 * claim still names provenant's write span), and all baggage becomes one header holding every
 * foreign member plus provenant's signed members, re-encoded within the W3C limits and only for
 * a trusted peer. Requests of the app's own dispatchers are decided here too (dispatcher-requests.ts).
 */
import dc from 'node:diagnostics_channel';
import { diag } from '@opentelemetry/api';
import type { OutgoingData } from '../../provenance/peer-claim.js';
import type { Patcher } from '../patcher.js';
import type { PeerFlows } from './peer-flows.js';

const REQUEST_CREATE = 'undici:request:create';

/** What provenant put on a request it dispatches. */
export interface PreparedRequest {
  readonly host: string;
  /** The claim for a trusted peer; undefined for any other destination. */
  readonly data: OutgoingData | undefined;
  /** The traceparent provenant added; undefined when the app set its own. */
  readonly traceparent: string | undefined;
  /** The request's baggage header as provenant last wrote it. */
  baggage: string | undefined;
}

/** undici's Request as published on `undici:request:create`: headers are a flat [name, value, ...] list. */
export interface UndiciRequest {
  readonly origin?: unknown;
  readonly method?: unknown;
  readonly path?: unknown;
  headers: unknown;
  addHeader?: (this: UndiciRequest, key: string, value: unknown) => UndiciRequest;
  onError?: (this: UndiciRequest, error: Error) => unknown;
}

/**
 * Decides a request provenant did not prepare (one of the app's own dispatchers) and returns what
 * provenant put on it, so later injected headers are merged as for its own.
 */
export type ForeignRequest = (request: UndiciRequest) => PreparedRequest | undefined;

export type HeaderList = (string | string[])[];

/** Runs a dispatch whose request (created synchronously inside it) gets its later headers merged. */
export type PreparedDispatch = (prepared: PreparedRequest, dispatch: () => boolean) => boolean;

export function mergeInjectedHeaders(flows: PeerFlows, patcher: Patcher, foreign: ForeignRequest): PreparedDispatch {
  let pending: PreparedRequest | undefined;

  const normalise = (headers: HeaderList, prepared: PreparedRequest): void => {
    const traceparents = indicesOf(headers, 'traceparent');
    if (traceparents.length > 1 && prepared.traceparent !== undefined) {
      const ours = traceparents.find((i) => headers[i + 1] === prepared.traceparent);
      if (ours !== undefined) headers.splice(ours, 2);
    }
    const baggage = indicesOf(headers, 'baggage');
    const first = baggage[0];
    if (first === undefined) return;
    const values = baggage.flatMap((i) => headers[i + 1]);
    // A single header is left alone when it is provenant's own or carries no provenant member.
    if (baggage.length === 1 && (values[0] === prepared.baggage || !flows.protocol.hasClaims(values))) return;
    const merged = flows.baggage(prepared.host, values, prepared.data);
    for (let k = baggage.length - 1; k >= 1; k--) headers.splice(baggage[k], 2);
    if (merged === undefined) headers.splice(first, 2);
    else headers[first + 1] = merged;
    prepared.baggage = merged;
  };

  const adopt = (request: UndiciRequest, prepared: PreparedRequest): void => {
    if (Array.isArray(request.headers)) normalise(request.headers as HeaderList, prepared);
    const addHeader = request.addHeader;
    if (typeof addHeader !== 'function') return;
    request.addHeader = function (this: UndiciRequest, key: string, value: unknown): UndiciRequest {
      // undici validates the header (and throws on a bad one) exactly as without provenant.
      addHeader.call(this, key, value);
      const name = String(key).toLowerCase();
      if ((name === 'traceparent' || name === 'baggage') && Array.isArray(this.headers)) {
        try {
          normalise(this.headers as HeaderList, prepared);
        } catch (error) {
          diag.warn('provenant: merging an injected fetch header failed', error);
        }
      }
      return this;
    };
  };

  // Never throws: an exception in a diagnostics_channel subscriber becomes an uncaughtException.
  const onCreate = (message: unknown): void => {
    // The first request created while provenant dispatches is the one it prepared; any other
    // comes from a dispatcher the app made, and is decided here, in the app's dispatch.
    const ours = pending;
    pending = undefined;
    const request = (message as { request?: UndiciRequest } | null)?.request;
    if (request === undefined) return;
    const prepared = ours ?? foreign(request);
    if (prepared === undefined) return;
    try {
      adopt(request, prepared);
    } catch (error) {
      diag.warn('provenant: merging the propagation headers of a fetch request failed', error);
    }
  };
  dc.subscribe(REQUEST_CREATE, onCreate);
  patcher.onRestore(() => dc.unsubscribe(REQUEST_CREATE, onCreate));

  return (prepared, dispatch) => {
    const outer = pending;
    pending = prepared;
    try {
      return dispatch();
    } finally {
      pending = outer;
    }
  };
}

/** Positions of the names equal to `name` (any case) in a flat header list. */
export function indicesOf(headers: HeaderList, name: string): number[] {
  const found: number[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const key = headers[i];
    if (typeof key === 'string' && key.toLowerCase() === name) found.push(i);
  }
  return found;
}
