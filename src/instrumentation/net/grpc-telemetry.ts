/**
 * The app's OTLP/gRPC exporter (@grpc/grpc-js over HTTP/2) is not a data flow either. grpc-js
 * connects later, from its own timers and promises, so the exporter is not on the stack when a
 * connection opens; what is, is grpc-js's own module. So a connection is the app's telemetry
 * only when both hold, at each step grpc-js takes:
 * - the destination is an OTLP endpoint the operator named in the environment before the app
 *   started (the same OTEL_* variables as HTTP; the SDK's gRPC default localhost:4317 when none),
 *   or an address grpc-js's own resolver resolved that name to;
 * - the caller is grpc-js's module for that step: its DNS resolver (`dns.promises.lookup`), its
 *   transport (`net.connect`, then `http2.connect` over that socket).
 * The app's own `net.connect`, `http2.connect` or DNS query to the collector stays a decided flow.
 * grpc-js shares a connection between every channel to a target with equal options and
 * credentials, so the session is not the exporter's alone: each stream on it is decided, except
 * those the OTLP exporter's client opens (isExporterStream): an OTLP Export method as `:path`, and
 * the user agent that exporter gives its channel (grpc-js puts a channel's `grpc.primary_user_agent`
 * first in every stream's `user-agent`).
 * Through an HTTP proxy (grpc_proxy, else https_proxy, else http_proxy, as grpc-js reads them) the
 * first step is grpc-js's CONNECT request from its proxy module: exempt when the proxy is the one
 * the environment named at start and the tunnel's target is a named collector; the app's own
 * requests to that proxy stay decided flows.
 * What remains (README): the app's own grpc-js channel can name the exporter's user agent and
 * call an OTLP Export method; what it sends that way is OTLP to the operator's collector, what the
 * app can already put in span attributes.
 */
import { normaliseHost } from '../../provenance/host.js';
import { isIpAddress } from '../../support/host-address.js';
import { calledFrom } from '../caller.js';

const GRPC_MODULE = (name: string): RegExp =>
  new RegExp(`[\\\\/]node_modules[\\\\/]@grpc[\\\\/]grpc-js[\\\\/]build[\\\\/]src[\\\\/]${name}\\.js$`);
const TRANSPORT = GRPC_MODULE('transport');
const RESOLVER = GRPC_MODULE('resolver-dns');
const PROXY = GRPC_MODULE('http_proxy');
/** grpc-js's order of preference. */
const PROXY_VARIABLES = ['grpc_proxy', 'https_proxy', 'http_proxy'];
const SDK_DEFAULT_ENDPOINT = 'http://localhost:4317';
/** The methods OTLP/gRPC exporters call (otlp-grpc-exporter-base's grpcPath for each signal). */
const EXPORT_PATHS: ReadonlySet<string> = new Set(
  ['trace.v1.TraceService', 'logs.v1.LogsService', 'metrics.v1.MetricsService'].map(
    (service) => `/opentelemetry.proto.collector.${service}/Export`,
  ),
);
/** otlp-grpc-exporter-base's user agent (after the app's own `userAgent` option, if any), then grpc-js's. */
const EXPORTER_AGENT = /(^| )OTel-OTLP-Exporter-JavaScript\/[^ ]+ grpc-node-js\//;
/** grpc-js's port when a target names none. */
const DEFAULT_PORT = 443;

export class GrpcTelemetry {
  /** Named host (normalised) → its ports. */
  private readonly named = new Map<string, Set<number>>();
  /** Address grpc-js's resolver gave for a named host → that host's ports. */
  private readonly resolved = new Map<string, Set<number>>();

  /** The proxy grpc-js tunnels through (normalised host). */
  private readonly proxy: { host: string; port: number } | undefined;
  /** Addresses grpc-js's resolver gave for the proxy's name → the proxy's port. */
  private readonly proxyAddresses = new Map<string, Set<number>>();

  /** `endpoints` as the environment named them (empty: the SDK's default); the proxy variables are read from `env`. */
  constructor(endpoints: readonly string[], env: NodeJS.ProcessEnv = {}) {
    this.proxy = proxyOf(env);
    for (const endpoint of endpoints.length > 0 ? endpoints : [SDK_DEFAULT_ENDPOINT]) {
      try {
        // The gRPC exporter also takes `host:port` without a scheme.
        const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `http://${endpoint}`);
        const host = normaliseHost(url.hostname.replace(/^\[|\]$/g, ''));
        const ports = this.named.get(host) ?? new Set<number>();
        ports.add(url.port === '' ? DEFAULT_PORT : Number(url.port));
        this.named.set(host, ports);
      } catch {
        // Not a URL: the exporter cannot export there either.
      }
    }
  }

  /** grpc-js's resolver looking up a named collector host (or the named proxy's): no query flow. */
  isResolverLookup(hostname: unknown): boolean {
    if (typeof hostname !== 'string') return false;
    const host = normaliseHost(hostname);
    return (this.named.has(host) || this.proxy?.host === host) && calledFrom(RESOLVER);
  }

  /** Remember what a named host (or the proxy's) resolved to, as grpc-js's resolver received it. */
  noteResolved(hostname: string, result: unknown): void {
    const host = normaliseHost(hostname);
    const proxy = this.proxy !== undefined && host === this.proxy.host;
    const ports = proxy ? new Set([this.proxy?.port ?? 0]) : this.named.get(host);
    if (ports === undefined) return;
    const into = proxy ? this.proxyAddresses : this.resolved;
    const entries = Array.isArray(result) ? (result as unknown[]) : [result];
    for (const entry of entries) {
      const address = typeof entry === 'string' ? entry : (entry as { address?: unknown } | null)?.address;
      if (typeof address !== 'string' || !isIpAddress(address)) continue;
      const key = normaliseHost(address);
      const known = into.get(key) ?? new Set<number>();
      for (const port of ports) known.add(port);
      into.set(key, known);
    }
  }

  /** grpc-js's CONNECT request to the named proxy for a tunnel to a named collector (`path` is its `host:port`). */
  isProxyConnect(host: string, port: number, method: unknown, path: unknown): boolean {
    const key = normaliseHost(host);
    const proxy = this.proxy?.host === key ? this.proxy.port === port : this.proxyAddresses.get(key)?.has(port) === true;
    if (!proxy) return false;
    if (typeof method !== 'string' || method.toUpperCase() !== 'CONNECT' || typeof path !== 'string') return false;
    const split = /^\[?([^\]]*?)\]?:(\d+)$/.exec(path);
    if (split === null) return false;
    return this.named.get(normaliseHost(split[1] ?? ''))?.has(Number(split[2])) === true && calledFrom(PROXY);
  }

  /** Whether the headers of a stream on grpc-js's session to a collector are the OTLP exporter's call. */
  isExporterStream(headers: unknown): boolean {
    if (typeof headers !== 'object' || headers === null) return false;
    const { ':path': path, 'user-agent': agent } = headers as Record<string, unknown>;
    return typeof path === 'string' && EXPORT_PATHS.has(path) && typeof agent === 'string' && EXPORTER_AGENT.test(agent);
  }

  /** A connection or HTTP/2 session grpc-js's transport opens to the collector: not a flow (its streams are decided). */
  isTransport(host: string, port: number): boolean {
    return this.isCollector(host, port) && calledFrom(TRANSPORT);
  }

  /** Whether `host:port` is a named collector (or an address grpc-js's resolver got for one). */
  isCollector(host: string, port: number): boolean {
    const key = normaliseHost(host);
    return this.named.get(key)?.has(port) === true || this.resolved.get(key)?.has(port) === true;
  }

  /** Whether grpc-js's transport is what is opening a connection or session now (to any target). */
  calledFromTransport(): boolean {
    return calledFrom(TRANSPORT);
  }
}

/** The proxy grpc-js would use; undefined when none or not an http: URL (grpc-js ignores those). */
function proxyOf(env: NodeJS.ProcessEnv): { host: string; port: number } | undefined {
  const value = PROXY_VARIABLES.map((name) => env[name]?.trim() ?? '').find((text) => text !== '');
  if (value === undefined) return undefined;
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:') return undefined;
    return { host: normaliseHost(url.hostname.replace(/^\[|\]$/g, '')), port: url.port === '' ? 80 : Number(url.port) };
  } catch {
    return undefined;
  }
}
