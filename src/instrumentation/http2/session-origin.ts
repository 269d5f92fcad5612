/**
 * What a client HTTP/2 session is connected to, as its `http2.connect` was decided: the origin
 * its streams are decided against, whether grpc-js opened it (a denied stream of it fails rather than
 * throws, refused-stream.ts) and whether that is to a named OTLP collector (whose exporter streams
 * are not flows, grpc-telemetry.ts).
 */
import type http2 from 'node:http2';
import { normaliseHost } from '../../provenance/host.js';
import type { PushOrigin } from './client-pushes.js';

export const SESSION_ORIGIN = Symbol('provenant.http2Origin');

/** `grpc`: opened by grpc-js's transport; `collector`: to a named OTLP collector as well. */
export type Session = http2.ClientHttp2Session & { [SESSION_ORIGIN]?: PushOrigin & { collector: boolean; grpc: boolean } };

/** The origin `http2.connect` was given; undefined when it names no http(s) origin (Node rejects it). */
export function originOf(authority: unknown): { protocol: 'http' | 'https'; host: string; port: number } | undefined {
  try {
    const url = authority instanceof URL ? authority : new URL(String(authority));
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    const protocol = url.protocol === 'https:' ? 'https' : 'http';
    return { protocol, host: normaliseHost(url.hostname), port: Number(url.port) || (protocol === 'https' ? 443 : 80) };
  } catch {
    return undefined;
  }
}
