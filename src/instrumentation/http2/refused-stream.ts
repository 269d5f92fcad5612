/**
 * A client stream that fails with a denial having sent nothing, for a caller that retries a thrown
 * `session.request()` without end: grpc-js takes a throw there for a call that never started and
 * starts it again at once, forever (a busy loop, the app's call never settles). A stream that
 * fails is a call that ended: grpc-js reports it to the app with the error's message.
 *
 * The stream is opened on a session of provenant's own whose socket is an in-memory sink (what
 * nghttp2 writes there, its preface and the HEADERS, is dropped inside the process), and is
 * destroyed with the error before the caller gets it; its 'error' and 'close' come a tick later,
 * after the caller has attached its listeners. One sink session serves every refusal.
 */
import type http2 from 'node:http2';
import { Duplex } from 'node:stream';

import type { FlowStream, Method } from './stream-gate.js';

type Connect = (this: unknown, ...args: unknown[]) => http2.ClientHttp2Session;

let sink: http2.ClientHttp2Session | undefined;

/** `connect`: Node's own http2.connect (not provenant's wrapper); `request`: Node's own `request`. */
export function refusedStream(error: Error, connect: Connect, request: Method): FlowStream {
  if (sink === undefined || sink.destroyed || sink.closed) {
    const socket = new Duplex({ read: () => undefined, write: (_chunk, _encoding, done) => done() });
    sink = connect.call(undefined, 'http://refused.invalid', { createConnection: () => socket });
    // Nothing answers the sink: its own errors are nobody's.
    sink.on('error', () => undefined);
  }
  // The session's own request (the prototype's is wrapped): called on the sink, as Node's code is.
  const stream = request.call(sink as unknown as FlowStream, { ':path': '/' }) as FlowStream;
  stream.destroy(error);
  return stream;
}
