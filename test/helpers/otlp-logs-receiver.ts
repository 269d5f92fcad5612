// A real OTLP/HTTP logs receiver (OTLP/JSON, what the http/json exporter sends) on a fixed
// loopback port, so a test can stop it and bring it back where the exporter keeps sending.
import http from 'node:http';
import { attributes, anyValue, type AttributeValue, type Attributes, type WireAnyValue, type WireKeyValue } from './otlp-receiver.js';

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
        traceId?: string;
        spanId?: string;
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

export async function startLogsReceiver(port: number, records: ReceivedLogRecord[] = []): Promise<LogsReceiver> {
  const waiters = new Set<() => void>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url !== '/v1/logs' || !String(req.headers['content-type']).startsWith('application/json')) {
        res.writeHead(400).end();
        return;
      }
      const request = JSON.parse(Buffer.concat(chunks).toString('utf8')) as WireLogsRequest;
      for (const resourceLogs of request.resourceLogs ?? []) {
        const resource = attributes(resourceLogs.resource?.attributes);
        for (const scope of resourceLogs.scopeLogs ?? [])
          for (const log of scope.logRecords ?? []) {
            const attrs = attributes(log.attributes);
            records.push({
              id: String(attrs['provenant.record.id']),
              eventName: log.eventName ?? '',
              severityNumber: log.severityNumber ?? 0,
              body: anyValue(log.body),
              attributes: attrs,
              traceId: (log.traceId ?? '').toLowerCase(),
              spanId: (log.spanId ?? '').toLowerCase(),
              resource,
            });
          }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      for (const waiter of waiters) waiter();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
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
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
