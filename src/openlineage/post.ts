/** POSTing one OpenLineage event (the HTTP transport's wire form: one JSON event per request). */
import type { RunEvent } from './facets.js';

const TIMEOUT_MS = 10_000;

/** Resolves when the server answered 2xx; rejects with the status or the network error otherwise. */
export function postEvent(url: string, event: RunEvent): Promise<void> {
  const body = Buffer.from(JSON.stringify(event));
  const target = new URL(url);
  const transport = process.getBuiltinModule(target.protocol === 'https:' ? 'node:https' : 'node:http');
  return new Promise((resolve, reject) => {
    const request = transport.request(
      target,
      { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length }, timeout: TIMEOUT_MS },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else reject(new Error(`${url} answered ${status}: ${Buffer.concat(chunks).toString('utf8').slice(0, 200)}`));
        });
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`${url} did not answer within ${TIMEOUT_MS} ms`)));
    request.on('error', reject);
    request.end(body);
  });
}

/** A failed export: the events before the failing one were accepted. */
export class ExportError extends Error {
  constructor(
    message: string,
    readonly sent: number,
  ) {
    super(message);
  }
}

/** Posts events in order, stopping at the first failure (an ExportError); resolves with how many were accepted. */
export async function postEvents(url: string, events: readonly RunEvent[]): Promise<number> {
  let sent = 0;
  for (const event of events) {
    try {
      await postEvent(url, event);
    } catch (error) {
      throw new ExportError(error instanceof Error ? error.message : String(error), sent);
    }
    sent++;
  }
  return sent;
}
