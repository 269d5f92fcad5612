/**
 * `provenant ui`'s HTTP server: the page, the bundled script and style from dist/ui/, and the
 * JSON API. Read-only (GET and HEAD only), bound to loopback unless told otherwise.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { BadRequest, handleApi, type ApiContext } from './api.js';

export interface UiServerOptions extends ApiContext {
  host: string;
  port: number;
  /** Folder holding the built app.js and app.css. */
  assetsDir: string;
}

export interface UiServer {
  url: string;
  close(): Promise<void>;
}

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>provenant explorer</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,"><link rel="stylesheet" href="/app.css"></head>
<body><div id="app"></div><script src="/app.js"></script></body></html>
`;

const ASSETS: Record<string, string> = { '/app.js': 'text/javascript; charset=utf-8', '/app.css': 'text/css; charset=utf-8' };

export function startUiServer(options: UiServerOptions): Promise<UiServer> {
  // Read once: the bundle does not change while the server runs, and a missing build fails here.
  const assets = new Map(Object.keys(ASSETS).map((name) => [name, readFileSync(join(options.assetsDir, name.slice(1)))]));
  const allowedHosts = new Set<string>();
  const server = createServer((request, response) => {
    // A page elsewhere whose name was rebound to this address must not read the journals.
    if (allowedHosts.size > 0 && !allowedHosts.has(request.headers.host ?? '')) {
      send(response, 421, 'text/plain', 'unexpected Host header\n');
      return;
    }
    respond(options, assets, request, response);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      const { port } = server.address() as AddressInfo;
      const host = options.host.includes(':') ? `[${options.host}]` : options.host;
      if (isLoopback(options.host)) for (const name of [host, 'localhost']) allowedHosts.add(`${name}:${port}`);
      resolve({
        url: `http://${host}:${port}/`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

function send(response: ServerResponse, status: number, type: string, body: string | Buffer): void {
  response.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    // Everything is served from here; nothing is fetched from elsewhere.
    'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'",
  });
  response.end(body);
}

function respond(options: UiServerOptions, assets: Map<string, Buffer>, request: IncomingMessage, response: ServerResponse): void {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    send(response, 405, 'text/plain', 'read-only\n');
    return;
  }
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (url.pathname === '/') return send(response, 200, 'text/html; charset=utf-8', PAGE);
  const asset = assets.get(url.pathname);
  if (asset) return send(response, 200, ASSETS[url.pathname], asset);
  try {
    const body = handleApi(options, url.pathname, url.searchParams);
    if (body === undefined) send(response, 404, 'application/json', JSON.stringify({ error: `no such path ${url.pathname}` }));
    else send(response, 200, 'application/json', JSON.stringify(body));
  } catch (error) {
    const status = error instanceof BadRequest ? 400 : 500;
    send(response, status, 'application/json', JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
  }
}

/** Bound to loopback, the page is reached by this address or `localhost`; bound wider, by any name. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
