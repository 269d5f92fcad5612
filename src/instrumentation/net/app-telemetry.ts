/**
 * The app's own OpenTelemetry export (its NodeSDK's OTLP/HTTP exporter) is not a data flow: it
 * is neither decided nor journaled, whichever context it runs in. Otherwise an app that read a
 * confidential file has its spans to an unlabelled collector denied, and every export journaled.
 *
 * An attacker must not turn this into a way out, so both must hold (checked at `http.request`):
 * - the origin is one of the OTLP endpoints the operator set in the environment before the app
 *   started (OTEL_EXPORTER_OTLP_[TRACES_|LOGS_|METRICS_]ENDPOINT, snapshotted at preload; the
 *   SDK's default http://localhost:4318 when none is set), so no host "like" a collector counts;
 * - the caller of `http.request`/`https.request` is the OTLP exporter's transport module itself
 *   (@opentelemetry/otlp-exporter-base's http-transport-utils), so the app's own request to the
 *   collector address is decided as any other.
 * What remains, documented in the README: the app can put data it read into its own span
 * attributes and have its SDK export them to that operator-named collector.
 *
 * A resource detector's query of a cloud metadata service at the fixed address it is written for
 * is the SDK's too, by the same two tests: that origin, called from that detector's module.
 */
import type { Resource } from '../../provenance/resource.js';
import { calledFrom } from '../caller.js';

/** The module whose `request()` call is an OTLP/HTTP export (CJS and ESM builds). */
const EXPORTER_TRANSPORT =
  /[\\/]node_modules[\\/]@opentelemetry[\\/]otlp-exporter-base[\\/]dist[\\/]platform[\\/]node[\\/]transport[\\/]http-transport-utils\.(c|m)?js$/;
const ENDPOINT_VARIABLES = [
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT',
  'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
];
const SDK_DEFAULT_ENDPOINT = 'http://localhost:4318';
/** Metadata services at fixed addresses, each with the only module whose requests there are the SDK's. */
const METADATA_QUERIES: readonly { host: string; port: number; caller: RegExp }[] = [
  {
    host: '169.254.169.254',
    port: 80,
    caller: /[\\/]node_modules[\\/]@opentelemetry[\\/]resource-detector-aws[\\/]dist[\\/]detectors[\\/]AwsEc2Detector\.(c|m)?js$/,
  },
];

/** The OTLP endpoints the environment names, as written. */
export function namedOtlpEndpoints(env: NodeJS.ProcessEnv): string[] {
  return ENDPOINT_VARIABLES.map((name) => env[name]?.trim() ?? '').filter((value) => value !== '');
}

/** The OTLP/HTTP endpoint URLs named by the environment (the SDK default when none is). */
export function otlpEndpoints(env: NodeJS.ProcessEnv): string[] {
  const named = namedOtlpEndpoints(env);
  return named.length > 0 ? named : [SDK_DEFAULT_ENDPOINT];
}

export class AppTelemetry {
  /** Origins as resource URIs (`http://127.0.0.1:4318`). */
  private readonly origins: ReadonlySet<string>;
  /** Metadata origins as resource URIs → their detector's module. */
  private readonly metadata: ReadonlyMap<string, RegExp>;

  constructor(endpoints: readonly string[], origin: (protocol: 'http' | 'https', host: string, port: number) => Resource) {
    const origins = new Set<string>();
    for (const endpoint of endpoints) {
      try {
        const url = new URL(endpoint);
        const protocol = url.protocol === 'https:' ? 'https' : url.protocol === 'http:' ? 'http' : undefined;
        if (protocol === undefined) continue;
        const port = url.port === '' ? (protocol === 'https' ? 443 : 80) : Number(url.port);
        origins.add(origin(protocol, url.hostname.replace(/^\[|\]$/g, ''), port).uri);
      } catch {
        // Not a URL: the SDK cannot export there either.
      }
    }
    this.origins = origins;
    this.metadata = new Map(METADATA_QUERIES.map((query) => [origin('http', query.host, query.port).uri, query.caller]));
  }

  /** True when this request to `resource` is the app's telemetry (its OTLP export, a detector's metadata query); call it from the `request` wrapper itself. */
  isExport(resource: Resource): boolean {
    if (this.origins.has(resource.uri)) return calledFrom(EXPORTER_TRANSPORT);
    const detector = this.metadata.get(resource.uri);
    return detector !== undefined && calledFrom(detector);
  }
}
