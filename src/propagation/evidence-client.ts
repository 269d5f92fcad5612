/**
 * Fetches facts from an attesting service's evidence endpoint (`GET /.well-known/provenant/facts`),
 * for monitors with fetchEvidence. The answer is verified fact by fact like any evidence; this
 * client only moves bytes, bounded in size and time. It speaks what the endpoint speaks: over TLS,
 * HTTP/2 or HTTP/1.1 as ALPN settles; in cleartext, HTTP/1.1, or HTTP/2 with prior knowledge when
 * the identity says `evidenceProtocol: h2c`. Any failure rejects: the premise stays missing.
 */
import type { Readable } from 'node:stream';
import type tls from 'node:tls';
import { EVIDENCE_PATH, MAX_EVIDENCE_BYTES } from '../monitor/evidence.js';
import { isIpAddress } from '../support/host-address.js';
import { internally } from '../support/reentrancy.js';

const TIMEOUT_MS = 2000;

export interface EvidenceEndpoint {
  /** `http(s)://host:port` */
  readonly origin: string;
  /** Cleartext HTTP/2 with prior knowledge (an `http:` origin). */
  readonly h2c: boolean;
}

type Finish = (error: Error | undefined, text?: string) => void;

export function fetchEvidence(endpoint: EvidenceEndpoint, principal: string, name: string): Promise<string | undefined> {
  const url = new URL(`${EVIDENCE_PATH}?principal=${encodeURIComponent(principal)}&name=${encodeURIComponent(name)}`, endpoint.origin);
  return new Promise((resolve, reject) => {
    const open: { destroy(): unknown }[] = [];
    let settled = false;
    const finish: Finish = (error, text) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const part of open) part.destroy();
      if (error) reject(error);
      else resolve(text);
    };
    const timer = setTimeout(() => finish(new Error(`no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    // provenant's own requests: not flows of the app's.
    const overHttp1 = (socket?: tls.TLSSocket): void => {
      // Taken at the request, not at preload: a process that never fetches evidence needs neither.
      const client = process.getBuiltinModule(url.protocol === 'https:' ? 'node:https' : 'node:http');
      const req = internally(() => client.get(url, socket === undefined ? {} : { createConnection: () => socket }));
      open.push(req);
      req.on('error', finish);
      req.on('response', (res) => read(res, res.statusCode ?? 0, finish));
    };
    const overHttp2 = (socket?: tls.TLSSocket): void => {
      // Loaded here, not with this module: most processes never load node:http2 (instrumentation/builtin-loads.ts).
      const http2 = process.getBuiltinModule('node:http2');
      const session = internally(() => http2.connect(url.origin, socket === undefined ? {} : { createConnection: () => socket }));
      open.push(session);
      session.on('error', finish);
      const stream = internally(() => session.request({ ':path': `${url.pathname}${url.search}` }));
      stream.on('error', finish);
      stream.on('response', (headers) => read(stream, Number(headers[':status']), finish));
      stream.end();
    };
    if (url.protocol === 'http:') {
      if (endpoint.h2c) overHttp2();
      else overHttp1();
      return;
    }
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const socket = internally(() =>
      process.getBuiltinModule('node:tls').connect({
        host,
        port: Number(url.port) || 443,
        servername: isIpAddress(host) ? undefined : host,
        ALPNProtocols: ['h2', 'http/1.1'],
      }),
    );
    open.push(socket);
    socket.on('error', finish);
    socket.once('secureConnect', () => (socket.alpnProtocol === 'h2' ? overHttp2(socket) : overHttp1(socket)));
  });
}

/** The answer's text when its status is 200, else undefined; bounded. */
function read(body: Readable, status: number, finish: Finish): void {
  let text = '';
  body.setEncoding('utf8');
  body.on('data', (chunk: string) => {
    text += chunk;
    if (text.length > MAX_EVIDENCE_BYTES * 2) finish(new Error('evidence answer too large'));
  });
  body.on('end', () => finish(undefined, status === 200 ? text.trim() : undefined));
  body.on('error', finish);
}
