/**
 * A grpc-js call is decided with the flow context it was made in. grpc-js opens its HTTP/2 stream
 * later, from its own callbacks: a call made while the channel resolves or connects waits in a
 * queue, and grpc-js starts every waiting call from whichever callback saw the channel become
 * ready, so `session.request()` ran in that callback's context, which may be another request's,
 * a clean one: a secret call decided as public data (a false allow, seen before this module).
 *
 * Each of grpc-js's three call layers remembers the context its `start()` ran in (the app's, for
 * the first; the layer above's, for the others, which it starts), and its steps that grpc-js
 * resumes later run in it: the resolving call's `getConfig` (after name resolution), the retrying
 * call's `startNewAttempt` (retries, hedging) and the load-balancing call's `doPick` (after the
 * connection is ready), which is where the stream is opened.
 */
import type { FlowContexts } from '../../provenance/context.js';
import { FLOW_CONTEXT, inContext, type ContextBound } from '../net/context-binding.js';
import { afterCompile } from '../package-loads.js';
import type { NativeFunction, Patcher } from '../patcher.js';

/** grpc-js's modules → the class each holds and its step resumed from grpc-js's own callbacks. */
const LAYERS: Record<string, { name: string; resumed: string }> = {
  'resolving-call': { name: 'ResolvingCall', resumed: 'getConfig' },
  'retrying-call': { name: 'RetryingCall', resumed: 'startNewAttempt' },
  'load-balancing-call': { name: 'LoadBalancingCall', resumed: 'doPick' },
};
const GRPC_MODULE = /[\\/]node_modules[\\/]@grpc[\\/]grpc-js[\\/]build[\\/]src[\\/](resolving-call|retrying-call|load-balancing-call)\.js$/;

export function keepGrpcCallContexts(patcher: Patcher, contexts: FlowContexts): void {
  afterCompile(
    patcher,
    (file) => GRPC_MODULE.test(file),
    (module, file) => {
      const layer = LAYERS[GRPC_MODULE.exec(file)?.[1] ?? ''];
      const exports = module.exports as Record<string, { prototype?: object } | undefined> | null;
      const proto = layer === undefined ? undefined : exports?.[layer.name]?.prototype;
      if (layer === undefined || proto === undefined) return;
      patcher.wrapMethod(
        proto,
        'start',
        (start) =>
          function (this: ContextBound, ...args: unknown[]): unknown {
            this[FLOW_CONTEXT] ??= contexts.current();
            return Reflect.apply(start, this, args);
          },
      );
      patcher.wrapMethod(
        proto,
        layer.resumed,
        (resumed: NativeFunction) =>
          function (this: ContextBound, ...args: unknown[]): unknown {
            const context = this[FLOW_CONTEXT];
            const run = (): unknown => Reflect.apply(resumed, this, args);
            return context === undefined ? run() : inContext(contexts, context, run);
          },
      );
    },
  );
}
