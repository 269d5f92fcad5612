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
 * A resource detector's query of a cloud metadata service is the SDK's too, by the same two tests:
 * the address the detector is written for (fixed in its code, or the one ECS names in the
 * environment at start), called from that detector's module. Several detectors share an address
 * (AWS EC2 and Azure VM: 169.254.169.254), so an origin keeps a list of callers.
 *
 * The GCP detector cannot be told by its caller (detector-scope.ts): its queries of the metadata
 * server gcp-metadata would use (named in the environment at start, or the fixed defaults) are the
 * SDK's when they run in the detector's own async scope.
 *
 * grpc-js's CONNECT request to the proxy the environment named at start, for a named collector,
 * is the exporter's too (GrpcTelemetry.isProxyConnect): the tunnel it opens is unmediated.
 */
import type { Resource } from '../../provenance/resource.js';
import { calledFrom, calledFromAny } from '../caller.js';
import { detectorScope, type DetectorScope } from './detector-scope.js';
import type { GrpcTelemetry } from './grpc-telemetry.js';

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
const DETECTOR = (pkg: string, file: string): RegExp =>
  new RegExp(`[\\\\/]node_modules[\\\\/]@opentelemetry[\\\\/]${pkg}[\\\\/]dist[\\\\/]detectors[\\\\/]${file}\\.(c|m)?js$`);
/** Metadata services at fixed addresses, each with the only modules whose requests there are the SDK's. */
const METADATA_QUERIES: readonly { protocol: 'http' | 'https'; host: string; port: number; callers: readonly RegExp[] }[] = [
  {
    protocol: 'http',
    host: '169.254.169.254',
    port: 80,
    callers: [DETECTOR('resource-detector-aws', 'AwsEc2Detector'), DETECTOR('resource-detector-azure', 'AzureVmDetector')],
  },
  {
    protocol: 'http',
    host: '100.100.100.200',
    port: 80,
    callers: [DETECTOR('resource-detector-alibaba-cloud', 'AlibabaCloudEcsDetector')],
  },
  // The EKS detector asks the cluster's API server (in-cluster name, fixed in its code) for two config maps.
  { protocol: 'https', host: 'kubernetes.default.svc', port: 443, callers: [DETECTOR('resource-detector-aws', 'AwsEksDetector')] },
];
/**
 * The GCP detector (gcp-metadata) queries GCE_METADATA_IP, else GCE_METADATA_HOST (read at start),
 * else 169.254.169.254 and, to fail fast, metadata.google.internal.
 */
const GCP_METADATA_VARIABLES = ['GCE_METADATA_IP', 'GCE_METADATA_HOST'];
const GCP_METADATA_DEFAULTS = ['169.254.169.254', 'metadata.google.internal.', 'metadata.google.internal'];
/** The ECS detector queries the task metadata endpoint ECS names in this variable (read at start). */
const ECS_METADATA_VARIABLE = 'ECS_CONTAINER_METADATA_URI_V4';
const ECS_DETECTOR = DETECTOR('resource-detector-aws', 'AwsEcsDetector');

/** What the environment named at start for the app's telemetry: snapshotted at preload, never re-read. */
export interface TelemetryEnvironment {
  /** OTLP/HTTP endpoint URLs (the SDK default when none is named). */
  otlpEndpoints: readonly string[];
  /** The ECS task metadata endpoint, when ECS set one. */
  ecsMetadata: string | undefined;
  /** The GCP metadata server's URLs (`http://host[:port]`), as gcp-metadata would query them. */
  gcpMetadata: readonly string[];
}

export function telemetryEnvironment(env: NodeJS.ProcessEnv): TelemetryEnvironment {
  const ecs = env[ECS_METADATA_VARIABLE]?.trim();
  const gcp = GCP_METADATA_VARIABLES.map((name) => env[name]?.trim() ?? '').find((value) => value !== '');
  const gcpHosts = gcp === undefined ? GCP_METADATA_DEFAULTS : [gcp];
  return {
    otlpEndpoints: otlpEndpoints(env),
    ecsMetadata: ecs === '' ? undefined : ecs,
    gcpMetadata: gcpHosts.map((host) => (/^https?:\/\//.test(host) ? host : `http://${host}`)),
  };
}

/** The OTLP endpoints the environment names, as written. */
export function namedOtlpEndpoints(env: NodeJS.ProcessEnv): string[] {
  return ENDPOINT_VARIABLES.map((name) => env[name]?.trim() ?? '').filter((value) => value !== '');
}

/** The OTLP/HTTP endpoint URLs named by the environment (the SDK default when none is). */
export function otlpEndpoints(env: NodeJS.ProcessEnv): string[] {
  const named = namedOtlpEndpoints(env);
  return named.length > 0 ? named : [SDK_DEFAULT_ENDPOINT];
}

type Origin = (protocol: 'http' | 'https', host: string, port: number) => Resource;

/** The origin of `endpoint` as a resource URI; undefined when it is no http(s) URL (nothing is sent there then). */
function originUri(endpoint: string, origin: Origin): string | undefined {
  try {
    const url = new URL(endpoint);
    const protocol = url.protocol === 'https:' ? 'https' : url.protocol === 'http:' ? 'http' : undefined;
    if (protocol === undefined) return undefined;
    const port = url.port === '' ? (protocol === 'https' ? 443 : 80) : Number(url.port);
    return origin(protocol, url.hostname.replace(/^\[|\]$/g, ''), port).uri;
  } catch {
    return undefined;
  }
}

export class AppTelemetry {
  /** Origins as resource URIs (`http://127.0.0.1:4318`). */
  private readonly origins: ReadonlySet<string>;
  /** Metadata origins as resource URIs → their detectors' modules. */
  private readonly metadata = new Map<string, RegExp[]>();
  /** Metadata origins as resource URIs → the detectors whose async scope (detector-scope.ts) may query them. */
  private readonly scoped = new Map<string, DetectorScope>();

  constructor(
    environment: TelemetryEnvironment,
    private readonly grpc: GrpcTelemetry,
    origin: Origin,
  ) {
    this.origins = new Set(environment.otlpEndpoints.flatMap((endpoint) => originUri(endpoint, origin) ?? []));
    const add = (uri: string | undefined, callers: readonly RegExp[]): void => {
      if (uri !== undefined) this.metadata.set(uri, [...(this.metadata.get(uri) ?? []), ...callers]);
    };
    for (const query of METADATA_QUERIES) add(origin(query.protocol, query.host, query.port).uri, query.callers);
    if (environment.ecsMetadata !== undefined) add(originUri(environment.ecsMetadata, origin), [ECS_DETECTOR]);
    for (const url of environment.gcpMetadata) {
      const uri = originUri(url, origin);
      if (uri !== undefined) this.scoped.set(uri, 'gcp');
    }
  }

  /**
   * True when this request to `resource` is the app's telemetry (its OTLP export, a detector's
   * metadata query, grpc-js's CONNECT to the named proxy); call it from the `request` wrapper itself.
   */
  isExport(resource: Resource, host: string, port: number, options: { method?: string; path?: string | null }): boolean {
    if (this.origins.has(resource.uri)) return calledFrom(EXPORTER_TRANSPORT);
    const scoped = this.scoped.get(resource.uri);
    if (scoped !== undefined && detectorScope() === scoped) return true;
    const detectors = this.metadata.get(resource.uri);
    if (detectors !== undefined) return calledFromAny(detectors);
    return this.grpc.isProxyConnect(host, port, options.method, options.path);
  }
}
