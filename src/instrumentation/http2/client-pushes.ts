/**
 * Streams a server pushes to an HTTP/2 client carry the server's data as a response does, but no
 * request of the app's asked for them, and Node does not say which request they were promised on.
 * So each is a read from the session's origin (with the server's verified claim, as a response)
 * into the context the session's 'stream' event runs in (where the session was opened), and its
 * events run there: what the app does with pushed data is decided with the origin's labels.
 */
import type http2 from 'node:http2';
import type { Attributes } from '@opentelemetry/api';
import type { FlowContexts } from '../../provenance/context.js';
import type { Resource } from '../../provenance/resource.js';
import { FLOW_CONTEXT, inContext } from '../net/context-binding.js';
import { RESPONSE_CLAIM_HEADER, type PeerFlows } from '../net/peer-flows.js';
import type { Patcher } from '../patcher.js';
import type { Emit } from './server-streams.js';
import type { FlowStream } from './stream-gate.js';

export interface PushOrigin {
  readonly resource: Resource;
  readonly host: string;
  readonly attributes: Attributes;
}

/** Wraps the client session prototype's emit: each pushed stream is adopted as `originOf(session)` says. */
export function readPushedStreams(
  patcher: Patcher,
  sessionProto: object,
  contexts: FlowContexts,
  flows: PeerFlows,
  originOf: (session: unknown) => PushOrigin | undefined,
  patchStreams: (stream: FlowStream) => void,
): void {
  patcher.wrap(
    sessionProto as { emit: Emit },
    'emit',
    (emit) =>
      function (this: unknown, ...args: [event: string | symbol, ...rest: unknown[]]): boolean {
        const origin = args[0] === 'stream' ? originOf(this) : undefined;
        if (origin === undefined) return emit.apply(this, args);
        const pushed = args[1] as FlowStream;
        const ctx = contexts.current();
        pushed[FLOW_CONTEXT] = ctx;
        patchStreams(pushed);
        pushed.once('push', (headers: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader) =>
          inContext(contexts, ctx, () => {
            const attributes = { ...origin.attributes, 'http.response.status_code': Number(headers[':status'] ?? 0) };
            flows.read(origin.resource, flows.protocol.verify(origin.host, headers[RESPONSE_CLAIM_HEADER]), attributes, false);
          }),
        );
        return emit.apply(this, args);
      },
  );
}
