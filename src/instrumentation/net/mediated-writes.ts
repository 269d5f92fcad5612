/**
 * Bytes the HTTP layer writes for a message provenant mediates (a request or response decided at
 * its `writeHead`/`write`/`end`) reach the socket later, from Node's internals: a request's
 * buffered headers and body are flushed when a pooled socket is handed to it, in whatever context
 * freed that socket. They were decided when the app handed them over, so the socket does not
 * decide them again (in the wrong context); the app's own writes to the same socket
 * (`res.socket.write`, a keep-alive socket it holds on to) are decided by socket.ts.
 */
import { ReentrancyGuard } from '../../support/reentrancy.js';
import type { Patcher } from '../patcher.js';

/** Set on a ClientRequest or ServerResponse whose bytes the HTTP instrumentation decides. */
export const MEDIATED_MESSAGE = Symbol('provenant.mediatedMessage');
/**
 * On a mediated message whose socket may reach another place than the one its bytes were decided
 * for (a client's `createConnection` or `lookup` going elsewhere): why its bytes must not reach
 * its socket now, checked as they are handed to it.
 */
export const SOCKET_CHECK = Symbol('provenant.socketCheck');

export type MediatedMessage = { [MEDIATED_MESSAGE]?: true; [SOCKET_CHECK]?: () => Error | undefined };

const writing = new ReentrancyGuard();

/** True while the HTTP layer writes bytes of a mediated message to its socket. */
export function isMediatedWrite(): boolean {
  return writing.active;
}

export function enableMediatedWrites(patcher: Patcher): void {
  // The two places Node's OutgoingMessage writes to its socket.
  for (const name of ['_writeRaw', '_flushOutput']) {
    patcher.wrapMethod(
      process.getBuiltinModule('node:http').OutgoingMessage.prototype,
      name,
      (original) =>
        function (this: MediatedMessage & { destroy(error: Error): void }): unknown {
          // Every write of every HTTP message: `arguments` forwarded, no closure (no allocation per call).
          if (this[MEDIATED_MESSAGE] !== true) return Reflect.apply(original, this, arguments);
          const error = this[SOCKET_CHECK]?.();
          if (error !== undefined) {
            this.destroy(error);
            return false;
          }
          return writing.apply(original, this, arguments);
        },
    );
  }
}
