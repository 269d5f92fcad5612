/**
 * Events of an HTTP message run in the flow context of its request. Node runs a server's parser
 * callbacks (request body `data`, `end`) in the connection's async context and a client's in the
 * context that created the socket, so without this a keep-alive connection would carry one
 * request's labels into the next.
 */
import type { EventEmitter } from 'node:events';
import type { FlowContext, FlowContexts } from '../../provenance/context.js';
import type { Patcher } from '../patcher.js';

export const FLOW_CONTEXT = Symbol('provenant.flowContext');

export type ContextBound = { [FLOW_CONTEXT]?: FlowContext };

export function inContext<T>(contexts: FlowContexts, context: FlowContext, fn: () => T): T {
  return contexts.current() === context ? fn() : contexts.runWith(context, fn);
}

/** Every `emit` on an object of `proto` that carries a flow context runs in that context. */
export function bindEmitsToContext(patcher: Patcher, proto: EventEmitter, contexts: FlowContexts): void {
  patcher.wrap(
    proto,
    'emit',
    (emit) =>
      function (this: EventEmitter & ContextBound, ...args: Parameters<EventEmitter['emit']>): boolean {
        const context = this[FLOW_CONTEXT];
        // An event nobody listens to runs no code that could move data: skip the context switch.
        if (context === undefined || this.listenerCount(args[0]) === 0 || contexts.current() === context) return emit.apply(this, args);
        return contexts.runWith(context, () => emit.apply(this, args));
      },
  );
}
