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
 * The OS does not normally hand a just-released ephemeral port out again at once, so it stays
 * closed for the length of a test (nothing else in the test run listens on fixed ports).
 */
export function closedPort(): Promise<number> {
  return freePort();
}
