// A real OTLP trace receiver for tests: gRPC and HTTP (protobuf and JSON, optionally gzipped) on
// loopback, normalising every span into one plain shape whatever the wire encoding was.
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export type OtlpProtocol = 'grpc' | 'http/protobuf' | 'http/json';

/** An OTLP AnyValue as plain JS: int64 becomes a number when it is safe, else a bigint. */
export type AttributeValue = string | number | bigint | boolean | null | Uint8Array | AttributeValue[] | Attributes;

export interface Attributes {
  [key: string]: AttributeValue;
}

export interface ReceivedLink {
  traceId: string;
  spanId: string;
  attributes: Attributes;
}

export interface ReceivedEvent {
  name: string;
  timeUnixNano: bigint;
  attributes: Attributes;
}

export interface ReceivedSpan {
  /** Lower-case hex, 32 characters. */
  traceId: string;
  /** Lower-case hex, 16 characters. */
  spanId: string;
  /** Absent for a root span. */
  parentSpanId?: string;
  name: string;
  /** OTLP SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Attributes;
  events: ReceivedEvent[];
  links: ReceivedLink[];
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string };
  resource: Attributes;
  scope: { name: string; version: string };
  protocol: OtlpProtocol;
}

export interface OtlpReceiver {
  /** For the gRPC exporter's `url` / OTEL_EXPORTER_OTLP_ENDPOINT, e.g. `http://127.0.0.1:40123`. */
  readonly grpcEndpoint: string;
  /** Base URL; the traces path is `${httpEndpoint}/v1/traces`. */
  readonly httpEndpoint: string;
  /** Every span received since start or the last reset(), in arrival order (live array). */
  readonly spans: readonly ReceivedSpan[];
  /** TCP connections accepted on either port. */
  readonly connections: number;
  /** HTTP requests (any path) plus gRPC calls received. */
  readonly requests: number;
  /** Why requests were rejected (bad content type, undecodable body...), for diagnosing failures. */
  readonly errors: readonly string[];
  /** Resolves with all spans once `predicate` holds; rejects, listing what arrived, after timeoutMs. */
  waitForSpans(predicate: (spans: readonly ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  reset(): void;
  close(): Promise<void>;
}

// The decoded wire shape. proto-loader (longs: String, bytes left as Buffer) and OTLP/JSON
// (ids as hex, bytes as base64, int64 as string or number) produce the same camelCase keys;
// only the scalar representations differ, which the normalisers below absorb.
export type WireBytes = Uint8Array | string;
type WireInt64 = string | number;

export interface WireAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: WireInt64;
  // OTLP/JSON may spell NaN and the infinities as strings.
  doubleValue?: number | string;
  arrayValue?: { values?: WireAnyValue[] };
  kvlistValue?: { values?: WireKeyValue[] };
  bytesValue?: WireBytes;
}

export interface WireKeyValue {
  key?: string;
  value?: WireAnyValue;
}

interface WireSpan {
  traceId?: WireBytes;
  spanId?: WireBytes;
  parentSpanId?: WireBytes;
  name?: string;
  kind?: number;
  startTimeUnixNano?: WireInt64;
  endTimeUnixNano?: WireInt64;
  attributes?: WireKeyValue[];
  events?: { timeUnixNano?: WireInt64; name?: string; attributes?: WireKeyValue[] }[];
  links?: { traceId?: WireBytes; spanId?: WireBytes; attributes?: WireKeyValue[] }[];
  status?: { code?: number; message?: string };
}

interface WireExportRequest {
  resourceSpans?: {
    resource?: { attributes?: WireKeyValue[] };
    scopeSpans?: {
      scope?: { name?: string; version?: string };
      spans?: WireSpan[];
    }[];
  }[];
}

const PROTO_DIR = path.join(__dirname, '..', 'fixtures', 'otlp');
const SERVICE_NAME = 'opentelemetry.proto.collector.trace.v1.TraceService';

function loadTraceService(): protoLoader.ServiceDefinition {
  const definitions = protoLoader.loadSync(path.join(PROTO_DIR, 'trace_service.proto'), {
    includeDirs: [PROTO_DIR],
    keepCase: false,
    longs: String,
    enums: Number,
    defaults: false,
    oneofs: false,
  });
  const service = definitions[SERVICE_NAME];
  if (service === undefined || 'format' in service) {
    throw new Error(`${SERVICE_NAME} not found in ${PROTO_DIR}`);
  }
  return service;
}

export function hexId(id: WireBytes | undefined): string {
  if (id === undefined) return '';
  // OTLP/JSON carries ids as hex strings, protobuf as raw bytes.
  return typeof id === 'string' ? id.toLowerCase() : Buffer.from(id).toString('hex');
}

function int64(value: WireInt64 | undefined): bigint {
  if (value === undefined || value === '') return 0n;
  return BigInt(value);
}

export function anyValue(value: WireAnyValue | undefined): AttributeValue {
  if (value === undefined) return null;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) {
    const big = BigInt(value.intValue);
    const small = Number(big);
    return Number.isSafeInteger(small) ? small : big;
  }
  if (value.doubleValue !== undefined) return Number(value.doubleValue);
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(anyValue);
  if (value.kvlistValue !== undefined) return attributes(value.kvlistValue.values);
  if (value.bytesValue !== undefined) {
    // OTLP/JSON carries bytes values as base64 (only ids are hex).
    return typeof value.bytesValue === 'string'
      ? new Uint8Array(Buffer.from(value.bytesValue, 'base64'))
      : new Uint8Array(value.bytesValue);
  }
  return null;
}

export function attributes(list: WireKeyValue[] | undefined): Attributes {
  const out: Attributes = {};
  for (const { key, value } of list ?? []) out[key ?? ''] = anyValue(value);
  return out;
}

function normalise(request: WireExportRequest, protocol: OtlpProtocol): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const resourceSpans of request.resourceSpans ?? []) {
    const resource = attributes(resourceSpans.resource?.attributes);
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      const scope = { name: scopeSpans.scope?.name ?? '', version: scopeSpans.scope?.version ?? '' };
      for (const span of scopeSpans.spans ?? []) {
        const parentSpanId = hexId(span.parentSpanId);
        out.push({
          traceId: hexId(span.traceId),
          spanId: hexId(span.spanId),
          ...(parentSpanId === '' ? {} : { parentSpanId }),
          name: span.name ?? '',
          kind: span.kind ?? 0,
          startTimeUnixNano: int64(span.startTimeUnixNano),
          endTimeUnixNano: int64(span.endTimeUnixNano),
          attributes: attributes(span.attributes),
          events: (span.events ?? []).map((event) => ({
            name: event.name ?? '',
            timeUnixNano: int64(event.timeUnixNano),
            attributes: attributes(event.attributes),
          })),
          links: (span.links ?? []).map((link) => ({
            traceId: hexId(link.traceId),
            spanId: hexId(link.spanId),
            attributes: attributes(link.attributes),
          })),
          status: { code: span.status?.code ?? 0, message: span.status?.message ?? '' },
          resource,
          scope,
          protocol,
        });
      }
    }
  }
  return out;
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const traceService = loadTraceService();
  const exportMethod = traceService['Export'];
  if (exportMethod === undefined) throw new Error(`${SERVICE_NAME}/Export not found`);
  // The definition comes from trace_service.proto, so the decoded object has the wire shape.
  const decodeProtobuf = (body: Buffer): WireExportRequest => exportMethod.requestDeserialize(body);
  const emptyProtobufResponse = exportMethod.responseSerialize({});

  const spans: ReceivedSpan[] = [];
  const errors: string[] = [];
  let connections = 0;
  let requests = 0;
  const waiters = new Set<() => void>();

  const accept = (request: WireExportRequest, protocol: OtlpProtocol): void => {
    spans.push(...normalise(request, protocol));
    for (const check of [...waiters]) check();
  };

  // gRPC: our own net.Server accepts (and counts) the TCP connections, then hands each socket to
  // grpc-js, which does not expose its sockets.
  const grpcServer = new grpc.Server();
  grpcServer.addService(traceService, {
    Export: (call: grpc.ServerUnaryCall<WireExportRequest, object>, callback: grpc.sendUnaryData<object>) => {
      requests++;
      try {
        accept(call.request, 'grpc');
        callback(null, {});
      } catch (error) {
        errors.push(`grpc: ${String(error)}`);
        callback({ code: grpc.status.INVALID_ARGUMENT, details: String(error) });
      }
    },
  });
  const injector = grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const grpcSockets = new Set<net.Socket>();
  const grpcListener = net.createServer((socket) => {
    connections++;
    grpcSockets.add(socket);
    socket.once('close', () => grpcSockets.delete(socket));
    injector.injectConnection(socket);
  });

  const reject = (res: http.ServerResponse, status: number, message: string): void => {
    errors.push(`http ${status}: ${message}`);
    res.writeHead(status, { 'content-type': 'text/plain' }).end(message);
  };

  const httpServer = http.createServer((req, res) => void handleHttp(req, res));
  const handleHttp = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    requests++;
    const pathname = new URL(req.url ?? '/', 'http://receiver').pathname;
    if (pathname !== '/v1/traces') return reject(res, 404, `no route for ${pathname}`);
    if (req.method !== 'POST') return reject(res, 405, `${req.method} not allowed`);

    const mediaType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (mediaType !== 'application/x-protobuf' && mediaType !== 'application/json') {
      return reject(res, 415, `unsupported content-type ${mediaType || '(none)'}`);
    }
    if (encoding !== 'gzip' && encoding !== 'identity') {
      return reject(res, 415, `unsupported content-encoding ${encoding}`);
    }

    let request: WireExportRequest;
    try {
      const raw = await readBody(req);
      const body = encoding === 'gzip' ? gunzipSync(raw) : raw;
      request = mediaType === 'application/json' ? (JSON.parse(body.toString('utf8')) as WireExportRequest) : decodeProtobuf(body);
    } catch (error) {
      return reject(res, 400, `cannot decode ${mediaType} body: ${String(error)}`);
    }
    accept(request, mediaType === 'application/json' ? 'http/json' : 'http/protobuf');
    // An empty ExportTraceServiceResponse, in the request's encoding.
    res.writeHead(200, { 'content-type': mediaType });
    res.end(mediaType === 'application/json' ? '{}' : emptyProtobufResponse);
  };
  httpServer.on('connection', () => connections++);

  const [grpcPort, httpPort] = await Promise.all([listen(grpcListener), listen(httpServer)]);

  return {
    grpcEndpoint: `http://127.0.0.1:${grpcPort}`,
    httpEndpoint: `http://127.0.0.1:${httpPort}`,
    get spans() {
      return spans;
    },
    get connections() {
      return connections;
    },
    get requests() {
      return requests;
    },
    get errors() {
      return errors;
    },
    waitForSpans(predicate, timeoutMs = 10_000) {
      return new Promise<ReceivedSpan[]>((resolve, fail) => {
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        const check = (): void => {
          try {
            if (!predicate(spans)) return;
          } catch (error) {
            done();
            fail(error instanceof Error ? error : new Error(String(error)));
            return;
          }
          done();
          resolve([...spans]);
        };
        const timer = setTimeout(() => {
          done();
          const names = spans.map((s) => `${s.name} (${s.protocol})`).join(', ') || 'none';
          const rejected = errors.length > 0 ? `; rejected: ${errors.join('; ')}` : '';
          fail(
            new Error(
              `waitForSpans timed out after ${timeoutMs} ms: ${spans.length} span(s) received: ` +
                `${names}; ${requests} request(s), ${connections} connection(s)${rejected}`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    reset() {
      spans.length = 0;
      errors.length = 0;
      connections = 0;
      requests = 0;
    },
    async close() {
      httpServer.closeAllConnections();
      injector.destroy();
      grpcServer.forceShutdown();
      for (const socket of grpcSockets) socket.destroy();
      await Promise.all([closeServer(httpServer), closeServer(grpcListener)]);
    },
  };
}

/**
 * Vitest lifecycle for a test file that needs one receiver: started before all tests, closed
 * (with leftover children and temp dirs) after. Returns a getter since the receiver exists only
 * once `beforeAll` has run.
 */
export function useOtlpReceiver(
  hooks: { beforeAll: (fn: () => Promise<void>) => void; afterAll: (fn: () => Promise<void>) => void },
  cleanup: () => Promise<void>,
): () => OtlpReceiver {
  let receiver: OtlpReceiver | undefined;
  hooks.beforeAll(async () => {
    receiver = await startOtlpReceiver();
  });
  hooks.afterAll(async () => {
    await cleanup();
    await receiver?.close();
  });
  return () => {
    if (!receiver) throw new Error('the OTLP receiver is not started yet (use it inside a test)');
    return receiver;
  };
}
