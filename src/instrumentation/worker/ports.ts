/**
 * Messages between threads. Posting is mediated on the ports app code holds — a worker's
 * `parentPort`, the ports of a `MessageChannel` it creates, any `BroadcastChannel` — and not on
 * the ports Node uses internally (script loading, a worker's stdio), which carry no app data of
 * their own. A denied post throws, as a post of an uncloneable value does. Receiving goes
 * through the hybrid dispatch Node uses for every port event, so `on('message')`,
 * `addEventListener` and `onmessage` all get the unwrapped value in the seeded context;
 * `receiveMessageOnPort` too.
 */
// The module object itself (not an ES namespace copy), so patches reach every user of worker_threads.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import workerThreads = require('node:worker_threads');
import { isInternal } from '../../support/reentrancy.js';
import type { Patcher } from '../patcher.js';
import type { Transfers } from '../transfers.js';
import type { ThreadFlows } from './thread-flows.js';

/** Node's event-target dispatch method, registered under a global symbol. */
const HYBRID_DISPATCH = Symbol.for('nodejs.internal.kHybridDispatch');

type Post = (this: object, value: unknown, ...rest: unknown[]) => void;
type Dispatch = (this: object, data: unknown, type: unknown, event: unknown) => unknown;

export function patchPorts(flows: ThreadFlows, patcher: Patcher, transfers: Transfers): void {
  // Ports and FileHandles that come in a message were never seen by this thread's patches.
  const adoptPort = (port: workerThreads.MessagePort): void => guardPort(port, flows);
  const adopted = (value: unknown): unknown => {
    transfers.received(value, adoptPort);
    return value;
  };
  const OriginalChannel = workerThreads.MessageChannel;
  class MessageChannel extends OriginalChannel {
    constructor() {
      super();
      guardPort(this.port1, flows);
      guardPort(this.port2, flows);
    }
  }
  patcher.define(workerThreads, 'MessageChannel', MessageChannel);
  // The global is the same class as Node's export (typed as the DOM's where DOM types are loaded).
  const global = globalThis as unknown as { MessageChannel?: unknown };
  if (global.MessageChannel === OriginalChannel) patcher.define(global, 'MessageChannel', MessageChannel);

  patcher.wrap(
    workerThreads.BroadcastChannel.prototype,
    'postMessage',
    (original) =>
      function postMessage(this: object, ...args: unknown[]): void {
        // Any thread may listen on a channel name: always decided, never labelled.
        const denied = isInternal() ? undefined : flows.toUnknown();
        if (denied) throw denied;
        Reflect.apply(original, this, args);
      },
  );

  const portPrototype = workerThreads.MessagePort.prototype as unknown as Record<symbol, Dispatch | undefined>;
  const dispatch = portPrototype[HYBRID_DISPATCH];
  if (typeof dispatch === 'function') {
    patcher.define(portPrototype, HYBRID_DISPATCH, function (this: object, data: unknown, type: unknown, event: unknown): unknown {
      if (type !== 'message') return Reflect.apply<object, unknown[], unknown>(dispatch, this, [data, type, event]);
      return flows.receive(data, (value) => Reflect.apply<object, unknown[], unknown>(dispatch, this, [adopted(value), type, event]));
    });
  }
  patcher.wrap(
    workerThreads,
    'receiveMessageOnPort',
    (original) =>
      function receiveMessageOnPort(port: workerThreads.MessagePort): { message: unknown } | undefined {
        const received = original(port);
        return received === undefined ? undefined : { message: adopted(flows.receiveHere(received.message)) };
      },
  );
}

const guarded = new WeakSet<workerThreads.MessagePort>();

/** Mediate posts on one port app code holds: labelled to a thread under provenant, else decided. */
export function guardPort(port: workerThreads.MessagePort, flows: ThreadFlows): void {
  if (guarded.has(port)) return;
  guarded.add(port);
  const post = port.postMessage as Post;
  port.postMessage = function (this: workerThreads.MessagePort, value: unknown, ...rest: unknown[]): void {
    let message = value;
    if (!isInternal()) {
      if (flows.mediatedPorts.has(this)) message = flows.toMediated(value);
      else {
        const denied = flows.toUnknown();
        if (denied) throw denied;
      }
    }
    Reflect.apply(post, this, [message, ...rest]);
  };
}
