import net from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picked it; we released it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A port with nothing listening, for "collector down" tests: connecting to it is refused.
 * A just-released ephemeral port is not handed out again by the OS right away, so it stays closed
 * for the length of a test.
 */
export function closedPort(): Promise<number> {
  return freePort();
}
