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
 */
import type { Resource } from '../../provenance/resource.js';
import { callerFile } from '../caller.js';

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
  }

  /** True when this request to `resource` is the OTLP exporter's own; call it from the `request` wrapper itself. */
  isExport(resource: Resource): boolean {
    return this.origins.has(resource.uri) && calledFromExporter();
  }
}

/** The first caller outside provenant and Node's internals is the exporter's transport. */
function calledFromExporter(): boolean {
  const file = callerFile();
  return file !== undefined && EXPORTER_TRANSPORT.test(file);
}
