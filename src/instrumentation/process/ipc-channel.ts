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
 *
 * Node's own control messages (`{ cmd: 'NODE_…' }`: cluster's listen and accept traffic, the
 * acknowledgement of a passed handle) go through the same channel. They are Node's bookkeeping,
 * not the app's data, so when Node's code sends one it is not decided: a cluster worker that read
 * a labelled file must still be able to listen. Only a message that Node itself built qualifies:
 * the first frame outside Node's child_process code and provenant must be Node's own (cluster,
 * net); the same message sent by the app (`process.send({ cmd: 'NODE_x', … })`, `_send`, a raw
 * handle write) is decided like any other, and so is a `NODE_HANDLE` message, which carries the
 * app's own message with the handle it passes.
 */
import type { ProvenanceDeniedError } from '../../errors.js';
import { OWN_DIR } from '../../support/own-files.js';
import { firstFrameFile } from '../caller.js';
import type { NativeFunction } from '../patcher.js';
import type { ChildFlow, ChildFlows } from './child-flows.js';

type Callback = (error?: Error | null) => void;
type Decide = () => ProvenanceDeniedError | undefined;
/** How a write of `payload` on a channel handle is decided. */
type DecideWrite = (payload: unknown) => ProvenanceDeniedError | undefined;
type Sender = { emit(event: string, ...args: unknown[]): boolean };

/** Channel handles and the decision of a write on each. */
const channels = new WeakMap<object, DecideWrite>();
/** Node's kChannelHandle (a plain symbol on the process or ChildProcess), found on first use. */
let channelSymbol: symbol | undefined;

/** How a write on `handle` is decided when it is an IPC channel; undefined for any other handle. */
export function channelDecision(handle: object): DecideWrite | undefined {
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
  if (handle !== undefined) {
    channels.set(handle, (payload) => {
      const denied = decide();
      return denied !== undefined && isControlMessage(payload) && sentByNode() ? undefined : denied;
    });
  }
  return (send) =>
    function (this: Sender, ...args: unknown[]): boolean {
      const denied = decide();
      if (!denied || (isControlMessage(args[0]) && sentByNode())) return Reflect.apply(send, this, args) as boolean;
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

/** A handle Node passes with a control message of its own (cluster's round-robin connections). */
const PASSED_CONTROL = /^\{"cmd":"NODE_HANDLE","type":"[\w.]+","msg":\{"cmd":"NODE_/;

/**
 * A message in the shape of Node's control messages: the object given to `send`, or what reaches
 * the handle — its JSON line, or with `serialization: 'advanced'` its V8-serialized frame. A
 * NODE_HANDLE carries the message a handle is passed with: a control message only when that one is.
 */
function isControlMessage(message: unknown): boolean {
  if (typeof message === 'string')
    return message.startsWith('{"cmd":"NODE_HANDLE"') ? PASSED_CONTROL.test(message) : message.startsWith('{"cmd":"NODE_');
  if (message instanceof Uint8Array) return isControlObject(advancedMessage(message), true);
  return isControlObject(message, false);
}

function isControlObject(message: unknown, passing: boolean): boolean {
  if (typeof message !== 'object' || message === null) return false;
  const { cmd, msg } = message as { cmd?: unknown; msg?: unknown };
  if (cmd === 'NODE_HANDLE') return passing && isControlObject(msg, false);
  return typeof cmd === 'string' && cmd.startsWith('NODE_');
}

/** Length of the size prefix of an advanced-serialization frame. */
const FRAME_HEADER = 4;

/**
 * The message in an advanced-serialization frame (a 4-byte size, then V8's serialization); only
 * read for a write that would otherwise be denied. A frame V8's default deserializer cannot read
 * (a Buffer inside is written with Node's own host-object prefix) is not a control message: Node's
 * carry none, so it is decided like the app's.
 */
function advancedMessage(frame: Uint8Array): unknown {
  if (frame.byteLength <= FRAME_HEADER) return undefined;
  try {
    return process.getBuiltinModule('node:v8').deserialize(frame.subarray(FRAME_HEADER));
  } catch {
    return undefined;
  }
}

/** Node's child_process code, which every send passes through on its way to the handle. */
const CHANNEL_FILES = 'node:internal/child_process';

/**
 * The send under way was started by Node's own code: the first frame outside Node's child_process
 * code and provenant is one of Node's (cluster's sendHelper, the handle acknowledgement), not the
 * app's. Taken only for a control message that would otherwise be denied.
 */
function sentByNode(): boolean {
  const file = firstFrameFile((frame) => frame.startsWith(CHANNEL_FILES) || frame.startsWith(OWN_DIR));
  return file?.startsWith('node:') === true;
}
