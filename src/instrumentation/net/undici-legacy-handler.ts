/**
 * undici 6's handler API (Node 22's bundled fetch): `onConnect`, `onHeaders` (raw header list),
 * `onData`, `onComplete`, `onError`, which undici 6 requires on every handler, and which undici 7
 * still takes (Node 24's fetch hands its dispatcher one). provenant's response reader takes the API
 * of the handler it wraps, so fetch works on both; this is the older one.
 */
import { handOverUpgraded } from './socket.js';

type HeaderValue = string | string[] | undefined;
export type Headers = Record<string, HeaderValue>;

/** undici 6's handler, as an interceptor receives it. */
export interface LegacyHandler {
  onConnect?(abort: (error?: Error) => void, context?: unknown): void;
  onError?(error: Error): void;
  onUpgrade?(statusCode: number, headers: unknown, socket: unknown): void;
  onHeaders?(statusCode: number, headers: unknown, resume: () => void, statusText?: string): boolean;
  onData?(chunk: Buffer): boolean;
  onComplete?(trailers: unknown): void;
  onBodySent?(chunk: unknown, sent?: number): void;
  onRequestSent?(): void;
  onResponseStarted?(): void;
}

/** undici 6 handlers have `onError`; undici 7 ones `onResponseError` (both when a wrapper offers both). */
export function isLegacyHandler(handler: object): handler is LegacyHandler {
  return typeof (handler as LegacyHandler).onError === 'function' && !('onResponseError' in handler);
}

/** Forwards every callback, calling `onStart` with the response headers named `wanted` before the app sees them. */
export class LegacyResponseReader implements LegacyHandler {
  constructor(
    private readonly inner: LegacyHandler,
    private readonly onStart: (headers: Headers, statusCode: number) => void,
    private readonly wanted: readonly string[],
  ) {}

  onConnect(abort: (error?: Error) => void, context?: unknown): void {
    this.inner.onConnect?.(abort, context);
  }

  onError(error: Error): void {
    this.inner.onError?.(error);
  }

  onUpgrade(statusCode: number, headers: unknown, socket: unknown): void {
    if (socket instanceof process.getBuiltinModule('node:net').Socket) handOverUpgraded(socket);
    this.inner.onUpgrade?.(statusCode, headers, socket);
  }

  onHeaders(statusCode: number, headers: unknown, resume: () => void, statusText?: string): boolean {
    if (statusCode >= 200) this.onStart(headerRecordOf(headers, this.wanted), statusCode);
    return this.inner.onHeaders?.(statusCode, headers, resume, statusText) ?? true;
  }

  onData(chunk: Buffer): boolean {
    return this.inner.onData?.(chunk) ?? true;
  }

  onComplete(trailers: unknown): void {
    this.inner.onComplete?.(trailers);
  }

  onBodySent(chunk: unknown, sent?: number): void {
    this.inner.onBodySent?.(chunk, sent);
  }

  onRequestSent(): void {
    this.inner.onRequestSent?.();
  }

  onResponseStarted(): void {
    this.inner.onResponseStarted?.();
  }
}

/**
 * The headers named `wanted` (lower case) of a flat [name, value, ...] list of Buffers (or
 * strings). Only a name as long as a wanted one is turned into a string: fetch calls this for
 * every response, and most of its headers are not provenant's.
 */
function headerRecordOf(raw: unknown, wanted: readonly string[]): Headers {
  const headers: Headers = {};
  if (!Array.isArray(raw)) return headers;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const length = (raw[i] as { length?: unknown } | null)?.length;
    if (!wanted.some((name) => name.length === length)) continue;
    const name = String(raw[i] as unknown).toLowerCase();
    if (!wanted.includes(name)) continue;
    const value = String(raw[i + 1] as unknown);
    const previous = headers[name];
    headers[name] = previous === undefined ? value : ([] as string[]).concat(previous, value);
  }
  return headers;
}
