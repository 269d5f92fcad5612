/**
 * Messages between threads. Posting is mediated on the ports app code holds — a worker's
 * `parentPort`, the ports of a `MessageChannel` it creates, any `BroadcastChannel` — and not on
 * the ports Node uses internally (script loading, a worker's stdio), which carry no app data of
 * their own. A denied post throws, as a post of an uncloneable value does. Receiving goes
 * through the hybrid dispatch Node uses for every port event, so `on('message')`,
 * `addEventListener` and `onmessage` all get the unwrapped value in the seeded context;
 * `receiveMessageOnPort` too.
 */
import type * as WorkerThreads from 'node:worker_threads';
import { isInternal } from '../../support/reentrancy.js';
import type { Patcher } from '../patcher.js';
import type { Transfers } from '../transfers.js';
import type { ThreadFlows } from './thread-flows.js';

/** Node's event-target dispatch method, registered under a global symbol. */
const HYBRID_DISPATCH = Symbol.for('nodejs.internal.kHybridDispatch');

type Post = (this: object, value: unknown, ...rest: unknown[]) => void;
type Dispatch = (this: object, data: unknown, type: unknown, event: unknown) => unknown;

/** The globals (the same classes worker_threads exports), patched at preload: they do not load worker_threads. */
interface PortGlobals {
  MessageChannel: typeof WorkerThreads.MessageChannel;
  MessagePort: typeof WorkerThreads.MessagePort;
  BroadcastChannel: typeof WorkerThreads.BroadcastChannel;
}

/**
 * Mediates the global MessageChannel, BroadcastChannel and port dispatch; returns the guarded
 * MessageChannel. `adoptReceived` false (Node's module-hooks thread): a port arriving in a message
 * is Node's reply channel to the loader, not the app's, and is left alone.
 */
export function patchPorts(
  flows: ThreadFlows,
  patcher: Patcher,
  transfers: Transfers,
  adoptReceived: boolean,
): typeof WorkerThreads.MessageChannel {
  const adopted = adoptReceived ? adopter(flows, transfers) : (value: unknown): unknown => value;
  const global = globalThis as unknown as PortGlobals;
  const OriginalChannel = global.MessageChannel;
  class MessageChannel extends OriginalChannel {
    constructor() {
      super();
      guardPort(this.port1, flows);
      guardPort(this.port2, flows);
    }
  }
  patcher.define(global, 'MessageChannel', MessageChannel);

  patcher.wrap(
    global.BroadcastChannel.prototype,
    'postMessage',
    (original) =>
      function postMessage(this: object, ...args: unknown[]): void {
        // Any thread may listen on a channel name: always decided, never labelled.
        const denied = isInternal() ? undefined : flows.toUnknown();
        if (denied) throw denied;
        Reflect.apply(original, this, args);
      },
  );

  const portPrototype = global.MessagePort.prototype as unknown as Record<symbol, Dispatch | undefined>;
  const dispatch = portPrototype[HYBRID_DISPATCH];
  if (typeof dispatch === 'function') {
    patcher.define(portPrototype, HYBRID_DISPATCH, function (this: object, data: unknown, type: unknown, event: unknown): unknown {
      if (type !== 'message') return Reflect.apply<object, unknown[], unknown>(dispatch, this, [data, type, event]);
      return flows.receive(data, (value) => Reflect.apply<object, unknown[], unknown>(dispatch, this, [adopted(value), type, event]));
    });
  }
  return MessageChannel;
}

/** What worker_threads exports besides the globals: its MessageChannel and receiveMessageOnPort. */
export function patchWorkerThreadsPorts(
  workerThreads: typeof WorkerThreads,
  MessageChannel: typeof WorkerThreads.MessageChannel,
  flows: ThreadFlows,
  patcher: Patcher,
  transfers: Transfers,
): void {
  const adopted = adopter(flows, transfers);
  patcher.define(workerThreads, 'MessageChannel', MessageChannel);
  patcher.wrap(
    workerThreads,
    'receiveMessageOnPort',
    (original) =>
      function receiveMessageOnPort(port: WorkerThreads.MessagePort): { message: unknown } | undefined {
        const received = original(port);
        return received === undefined ? undefined : { message: adopted(flows.receiveHere(received.message)) };
      },
  );
}

/** Ports and FileHandles that come in a message were never seen by this thread's patches. */
function adopter(flows: ThreadFlows, transfers: Transfers): (value: unknown) => unknown {
  const adoptPort = (port: WorkerThreads.MessagePort): void => guardPort(port, flows);
  return (value) => {
    transfers.received(value, adoptPort);
    return value;
  };
}

const guarded = new WeakSet<WorkerThreads.MessagePort>();

/** Mediate posts on one port app code holds: labelled to a thread under provenant, else decided. */
export function guardPort(port: WorkerThreads.MessagePort, flows: ThreadFlows): void {
  if (guarded.has(port)) return;
  guarded.add(port);
  const post = port.postMessage as Post;
  port.postMessage = function (this: WorkerThreads.MessagePort, value: unknown, ...rest: unknown[]): void {
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
