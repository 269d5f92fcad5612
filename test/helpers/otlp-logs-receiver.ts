// A real OTLP logs receiver on a fixed loopback port, so a test can stop it and bring it back
// where the exporter keeps sending: OTLP/HTTP (JSON and protobuf, decoded with the OTLP .proto
// definitions in test/fixtures/otlp) or gRPC (grpc-js serving LogsService/Export).
import http from 'node:http';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import {
  attributes,
  anyValue,
  hexId,
  type AttributeValue,
  type Attributes,
  type OtlpProtocol,
  type WireAnyValue,
  type WireBytes,
  type WireKeyValue,
} from './otlp-receiver.js';

export interface ReceivedLogRecord {
  /** `provenant.record.id`: what a receiver de-duplicates by. */
  id: string;
  eventName: string;
  severityNumber: number;
  body: AttributeValue;
  attributes: Attributes;
  traceId: string;
  spanId: string;
  resource: Attributes;
}

interface WireLogsRequest {
  resourceLogs?: {
    resource?: { attributes?: WireKeyValue[] };
    scopeLogs?: {
      logRecords?: {
        eventName?: string;
        severityNumber?: number;
        body?: WireAnyValue;
        attributes?: WireKeyValue[];
        traceId?: WireBytes;
        spanId?: WireBytes;
      }[];
    }[];
  }[];
}

export interface LogsReceiver {
  readonly endpoint: string;
  /** Every record received, duplicates included, in arrival order (live array). */
  readonly records: readonly ReceivedLogRecord[];
  /** Resolves once `predicate` holds, checked on each request received; rejects after timeoutMs. */
  waitFor(predicate: (records: readonly ReceivedLogRecord[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const PROTO_DIR = path.join(__dirname, '..', 'fixtures', 'otlp');
const SERVICE_NAME = 'opentelemetry.proto.collector.logs.v1.LogsService';

function loadLogsService(): protoLoader.ServiceDefinition {
  const definitions = protoLoader.loadSync(path.join(PROTO_DIR, 'logs_service.proto'), {
    includeDirs: [PROTO_DIR],
    longs: String,
    enums: Number,
    defaults: false,
    oneofs: false,
  });
  const service = definitions[SERVICE_NAME];
  if (service === undefined || 'format' in service) throw new Error(`${SERVICE_NAME} not found in ${PROTO_DIR}`);
  return service;
}

/** Every log record of one export request, whatever its encoding. */
function received(request: WireLogsRequest): ReceivedLogRecord[] {
  const out: ReceivedLogRecord[] = [];
  for (const resourceLogs of request.resourceLogs ?? []) {
    const resource = attributes(resourceLogs.resource?.attributes);
    for (const scope of resourceLogs.scopeLogs ?? [])
      for (const log of scope.logRecords ?? []) {
        const attrs = attributes(log.attributes);
        out.push({
          id: String(attrs['provenant.record.id']),
          eventName: log.eventName ?? '',
          severityNumber: log.severityNumber ?? 0,
          body: anyValue(log.body),
          attributes: attrs,
          traceId: hexId(log.traceId),
          spanId: hexId(log.spanId),
          resource,
        });
      }
  }
  return out;
}

/** A receiver on `port` speaking `protocol` (HTTP serves JSON and protobuf alike; gRPC only gRPC). */
export async function startLogsReceiver(
  port: number,
  records: ReceivedLogRecord[] = [],
  protocol: OtlpProtocol = 'http/json',
): Promise<LogsReceiver> {
  const waiters = new Set<() => void>();
  const accept = (request: WireLogsRequest): void => {
    records.push(...received(request));
    for (const waiter of waiters) waiter();
  };
  const service = loadLogsService();
  const exportMethod = service['Export'];
  if (exportMethod === undefined) throw new Error(`${SERVICE_NAME}/Export not found`);
  let close: () => Promise<void>;
  if (protocol === 'grpc') {
    const server = new grpc.Server();
    server.addService(service, {
      Export: (call: grpc.ServerUnaryCall<WireLogsRequest, object>, callback: grpc.sendUnaryData<object>) => {
        accept(call.request);
        callback(null, {});
      },
    });
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error) => (error ? reject(error) : resolve())),
    );
    close = () => {
      server.forceShutdown();
      return Promise.resolve();
    };
  } else {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const type = String(req.headers['content-type']);
        const json = type.startsWith('application/json');
        if (req.url !== '/v1/logs' || (!json && !type.startsWith('application/x-protobuf'))) {
          res.writeHead(400).end();
          return;
        }
        const body = Buffer.concat(chunks);
        // The definition comes from logs_service.proto, so the decoded object has the wire shape.
        accept(json ? (JSON.parse(body.toString('utf8')) as WireLogsRequest) : exportMethod.requestDeserialize(body));
        res.writeHead(200, { 'content-type': type }).end(json ? '{}' : exportMethod.responseSerialize({}));
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    close = () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    records,
    waitFor(predicate, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (!predicate(records)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`logs receiver: condition not met after ${timeoutMs} ms; ${records.length} record(s) received`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close,
  };
}
