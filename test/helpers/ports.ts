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

/**
 * Connects to `server` and resolves once the server has accepted that very connection. A listening
 * socket accepts connections in the order they arrived, so by then every connection attempted
 * before this call has been accepted too: "no connection was made" is then a count, not a wait.
 * The probe itself is one more accepted connection.
 */
export function acceptProbe(server: net.Server): Promise<void> {
  const { port } = server.address() as net.AddressInfo;
  return new Promise((resolve, reject) => {
    const probe = net.connect(port, '127.0.0.1');
    probe.once('error', reject);
    const onConnection = (socket: net.Socket): void => {
      if (socket.remotePort !== probe.localPort) return;
      server.off('connection', onConnection);
      probe.destroy();
      resolve();
    };
    // First in line: the server's own listener may destroy the socket, and its address with it.
    server.prependListener('connection', onConnection);
  });
}
