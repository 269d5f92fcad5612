/**
 * Node's IPC channel between a parent and the child it forked: `child.send` in the parent,
 * `process.send` in the child. Each message is a flow to the process at the other end, decided
 * before Node writes it; and since Node writes it through the channel's Pipe handle, which no
 * socket owns, every write on that handle is decided the same way (the locked handle write
 * methods ask `channelDecision`, net/socket-writes.ts): the app writing to the handle itself
 * (`process[kChannelHandle].writeUtf8String(…)`, a `_send` of its own) gets the same answer as
 * `send`. No pass is needed for Node's own write: a decision depends on the context, not on the
 * bytes, and `send` writes synchronously in the context it was decided in, so the handle's check
 * is a repeat of it (ChildFlows.input: nothing new to decide). A message Node queues behind a
 * handle being passed is written later, in the context of the acknowledgement, and decided there.
 */
import type { ProvenanceDeniedError } from '../../errors.js';
import type { NativeFunction } from '../patcher.js';
import type { ChildFlow, ChildFlows } from './child-flows.js';

type Callback = (error?: Error | null) => void;
type Decide = () => ProvenanceDeniedError | undefined;
type Sender = { emit(event: string, ...args: unknown[]): boolean };

/** Channel handles and the decision of a write on each. */
const channels = new WeakMap<object, Decide>();
/** Node's kChannelHandle (a plain symbol on the process or ChildProcess), found on first use. */
let channelSymbol: symbol | undefined;

/** How a write on `handle` is decided when it is an IPC channel; undefined for any other handle. */
export function channelDecision(handle: object): Decide | undefined {
  return channels.get(handle);
}

/**
 * Mediates the IPC channel of `target` (a ChildProcess, or `process` in a forked child): every
 * write on its handle is decided as a flow to `peer`, and so is `send`, wrapped by the function
 * returned, which fails as Node reports a failed send (the callback, else `'error'` on the target).
 */
export function guardChannel(target: object, peer: ChildFlow, flows: ChildFlows): (send: NativeFunction) => NativeFunction {
  const decide: Decide = () => flows.input(peer, undefined);
  const handle = channelHandle(target);
  if (handle !== undefined) channels.set(handle, decide);
  return (send) =>
    function (this: Sender, ...args: unknown[]): boolean {
      const denied = decide();
      if (!denied) return Reflect.apply(send, this, args) as boolean;
      const callback = args.find((arg): arg is Callback => typeof arg === 'function');
      if (callback) process.nextTick(callback, denied);
      else process.nextTick(() => this.emit('error', denied));
      return false;
    };
}

function channelHandle(target: object): object | undefined {
  channelSymbol ??= Object.getOwnPropertySymbols(target).find((key) => key.description === 'kChannelHandle');
  const handle: unknown = channelSymbol === undefined ? undefined : (target as Record<symbol, unknown>)[channelSymbol];
  return typeof handle === 'object' && handle !== null ? handle : undefined;
}
