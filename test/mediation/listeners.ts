// Listeners standing in for regions (127.0.0.2, 127.0.0.3, ... and ::1): each counts the
// connections it accepted and the bytes it received, so a denial can be proven to have moved
// nothing. Counts are read only after `settle()`, which makes them final without a timer.
import { createHash } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll } from 'vitest';

export interface Listener {
  readonly host: string;
  readonly port: number;
  /** Connections accepted, not counting settle()'s own. */
  readonly connections: number;
  /** Everything received on those connections, as text. */
  readonly received: string;
  /**
   * Wait until every connection made before this call is accepted (the accept queue is FIFO, so
   * a probe connection of our own is accepted after all of them) and closed.
   */
  settle(): Promise<void>;
  close(): Promise<void>;
}

type Handler = (socket: net.Socket) => void;

const PROBE = '\u0000settle-probe\u0000';

/**
 * A TCP listener on `host` (an address), or a unix-domain socket when `host` is an absolute path;
 * `respond` answers each connection (default: read and say nothing).
 */
export async function listen(host: string, respond?: Handler): Promise<Listener> {
  const open = new Set<Promise<void>>();
  let connections = 0;
  let received = '';
  let probed: (() => void) | undefined;
  const server = net.createServer((socket) => {
    connections++;
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    open.add(closed);
    let first = true;
    socket.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      if (first && text === PROBE) {
        // settle()'s own connection: not counted, and everything before it was accepted already.
        connections--;
        open.delete(closed);
        socket.destroy();
        probed?.();
        return;
      }
      first = false;
      received += text;
    });
    socket.on('error', () => undefined);
    respond?.(socket);
  });
  const unix = host.startsWith('/');
  await new Promise<void>((resolve) => (unix ? server.listen(host, resolve) : server.listen(0, host, resolve)));
  const port = unix ? 0 : (server.address() as net.AddressInfo).port;
  return {
    host,
    port,
    get connections() {
      return connections;
    },
    get received() {
      return received;
    },
    async settle() {
      const done = new Promise<void>((resolve) => (probed = resolve));
      const probe = net.connect(unix ? { path: host } : { host, port }, () => probe.end(PROBE));
      probe.on('error', () => undefined);
      await done;
      await Promise.all(open);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * An HTTP responder for `listen`: answers each request line with 200 "ok" on a keep-alive
 * connection. Not Node's HTTP server, which would consume the socket natively and hide the bytes.
 */
export const httpOk: Handler = (socket) => {
  socket.on('data', (chunk: Buffer) => {
    for (const _ of chunk.toString('latin1').matchAll(/^[A-Z]+ \S+ HTTP\/1\.1\r$/gm))
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
  });
};

/** Like `httpOk`, but a request for `/up` is answered `307` to `location` (keeping method and body). */
export const redirectingUp =
  (location: string): Handler =>
  (socket) => {
    socket.on('data', (chunk: Buffer) => {
      for (const [, target] of chunk.toString('latin1').matchAll(/^[A-Z]+ (\S+) HTTP\/1\.1\r$/gm))
        socket.write(
          target === '/up'
            ? `HTTP/1.1 307 Temporary Redirect\r\nlocation: ${location}\r\ncontent-length: 0\r\n\r\n`
            : 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok',
        );
    });
  };

/**
 * A WebSocket responder for `listen`: completes the opening handshake, then only reads (frames
 * arrive masked, so the test counts bytes after the handshake); a close frame ends the connection.
 */
export const websocketAccept: Handler = (socket) => {
  let open = false;
  socket.on('data', (chunk: Buffer) => {
    if (!open) {
      const key = /sec-websocket-key: *(\S+)/i.exec(chunk.toString('latin1'))?.[1];
      if (key === undefined) return;
      open = true;
      const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\n\r\n`,
      );
      return;
    }
    if (chunk.includes(0x88)) socket.destroy();
  });
};

/** Connect to an instrumented server on 127.0.0.1:`port`, send `line`, and return everything it sent back until it closed. */
export function ask(port: number, line: string): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write(line));
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(text));
  });
}

/**
 * For a test file: 127.0.0.2 (the region netWorkspace's config lets hold secrets) and 127.0.0.3
 * (unlabelled), listening from beforeAll to afterAll; read them inside tests.
 */
export function secretAndPublicRegions(): { readonly secret: Listener; readonly unlabelled: Listener } {
  const regions: { secret?: Listener; unlabelled?: Listener } = {};
  beforeAll(async () => {
    [regions.secret, regions.unlabelled] = await Promise.all([listen('127.0.0.2'), listen('127.0.0.3')]);
  });
  afterAll(async () => {
    await Promise.all([regions.secret?.close(), regions.unlabelled?.close()]);
  });
  const opened = (listener: Listener | undefined): Listener => {
    if (listener === undefined) throw new Error('the regions listen from beforeAll on');
    return listener;
  };
  return {
    get secret() {
      return opened(regions.secret);
    },
    get unlabelled() {
      return opened(regions.unlabelled);
    },
  };
}
