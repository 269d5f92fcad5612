/** Where an `http.request` call (or `new http.ClientRequest`) goes, following Node's argument rules. */
import type http from 'node:http';
import { urlToHttpOptions } from 'node:url';
import type { Attributes } from '@opentelemetry/api';
import { normaliseHost } from '../../provenance/host.js';
import { redactUrl } from '../../provenance/url-redaction.js';

export type Protocol = 'http' | 'https';
type Callback = (...args: unknown[]) => void;

export interface RequestTarget {
  protocol: Protocol;
  host: string;
  port: number;
  /** The call's options merged as http.request merges them (for the denied path). */
  options: http.RequestOptions;
  callback: Callback | undefined;
  attributes: Attributes;
}

/** Where a request call goes, following http.request's argument rules; undefined for IPC or bad input. */
export function requestTarget(args: readonly unknown[], module: Protocol): RequestTarget | undefined {
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

/** The `headers` option as [name, value] pairs: a record, a raw `[name, value, ...]` list or `[[name, value], ...]`. */
export function headerEntries(headers: unknown): [string, unknown][] | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  if (!Array.isArray(headers)) return Object.entries(headers as Record<string, unknown>);
  if (Array.isArray(headers[0])) return (headers as unknown[][]).map(([name, value]) => [String(name), value]);
  // An odd-length list is Node's to refuse, as without provenant.
  if (headers.length % 2 !== 0) return undefined;
  const pairs: [string, unknown][] = [];
  for (let i = 0; i + 1 < headers.length; i += 2) pairs.push([String(headers[i]), headers[i + 1]]);
  return pairs;
}
