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

/**
 * `fn` applied to `self` and `args` in `context`. For wrappers on per-event paths: a closure
 * written inside the wrapper would make V8 allocate the wrapper's scope (and `arguments`) on every
 * call, switching or not; made here, only a call that switches allocates.
 */
export function applyIn<T>(
  contexts: FlowContexts,
  context: FlowContext,
  fn: (...args: never[]) => unknown,
  self: unknown,
  args: ArrayLike<unknown>,
): T {
  return contexts.runWith(context, () => Reflect.apply(fn, self, args) as T);
}

/** Every `emit` on an object of `proto` that carries a flow context runs in that context. */
export function bindEmitsToContext(patcher: Patcher, proto: EventEmitter, contexts: FlowContexts): void {
  patcher.wrap(
    proto,
    'emit',
    (emit) =>
      function (this: EventEmitter & ContextBound, event: string | symbol): boolean {
        const context = this[FLOW_CONTEXT];
        // An event nobody listens to runs no code that could move data: skip the context switch.
        // Every event of every request passes here: `arguments` forwarded, no array when nothing switches.
        if (context === undefined || this.listenerCount(event) === 0 || contexts.current() === context)
          return Reflect.apply(emit, this, arguments) as boolean;
        return applyIn(contexts, context, emit, this, arguments);
      },
  );
}
