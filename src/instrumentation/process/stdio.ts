/**
 * This process's stdout and stderr are destinations, `process://<node>/stdout` and `/stderr`: a
 * write is decided before it reaches the stream, so "the patient record goes to the log shipper"
 * can be denied by a `resources` entry or a rule. Unlabelled, they are the operator's console and
 * take any data (README: stdout and stderr); in a child of an instrumented parent, which reads
 * them back without their labels, they get `defaults` beyond what the parent handed over.
 *
 * With no `resources` entry for the stream, allowed writes are decided but not journaled (every
 * request logs); denials and violations are, and with an entry every distinct flow is recorded.
 * A denied write writes nothing: its callback gets the error, else the stream's 'error' listeners
 * if it has any; `console.log` has neither, so the line is dropped (and the denial journaled)
 * rather than crashing the app.
 *
 * When the stream is a socket (a pipe or a terminal), it is also a socket flow decided by the same
 * gate (net/socket-flow.ts `decideAs`), so the ways around the stream's `write` — the stream
 * prototypes' `write` called on it, `_write`, its handle's write methods — get the same decision; a
 * write the wrapper below already decided passes there.
 */
import type { Writable } from 'node:stream';
import type { StdioStream } from '../../config/types.js';
import { isInternal } from '../../support/reentrancy.js';
import { sizeOf } from '../fs/flows.js';
import { decideAs } from '../net/socket-flow.js';
import type { Patcher } from '../patcher.js';
import type { StdioGate } from '../stdio-gate.js';

type Callback = (error?: Error | null) => void;

export function patchStdio(gate: StdioGate, patcher: Patcher): void {
  const streams: { stdout?: Writable; stderr?: Writable } = {};
  const wrapped = new Set<object>();
  const patchStream = (name: StdioStream, stream: Writable): void => {
    streams[name] = stream;
    const { resource, attributes } = gate.target(name);
    decideAs(stream, resource, attributes, () =>
      gate.deciding.active || gate.passing.active || isInternal() ? undefined : gate.authorize(name, undefined),
    );
    // The gate sits on the write of the stream's class (tty.WriteStream, net.Socket for a pipe, the
    // file writer), for these two streams only: an own `write` on process.stdout reads as "someone
    // replaced stdout" to loggers that check (pino then writes through process.stdout instead of
    // straight to fd 1, and crashes on a broken pipe it handles plain).
    const proto = stream.constructor.prototype as Writable;
    if (wrapped.has(proto)) return;
    wrapped.add(proto);
    patcher.wrap(
      proto,
      'write',
      (write) =>
        function (this: Writable, ...args: unknown[]): boolean {
          const name: StdioStream | undefined = this === streams.stdout ? 'stdout' : this === streams.stderr ? 'stderr' : undefined;
          if (name === undefined || gate.deciding.active || gate.passing.active || isInternal())
            return Reflect.apply(write, this, args) as boolean;
          const denied = gate.authorize(name, sizeOf(args[0]));
          if (!denied) return gate.passing.run(() => Reflect.apply(write, this, args) as boolean);
          const callback = args.find((arg): arg is Callback => typeof arg === 'function');
          if (callback) process.nextTick(callback, denied);
          else if (this.listenerCount('error') > 0) process.nextTick(() => this.emit('error', denied));
          return true;
        } as Writable['write'],
    );
  };
  for (const name of ['stdout', 'stderr'] as const) whenMade(name, (stream) => patchStream(name, stream), patcher);
}

/**
 * Node makes process.stdout and process.stderr on first access (a pipe's loads node:net, a
 * terminal's node:tty): patched as that access returns, before anyone holds the stream, and Node's
 * own getter is put back then. Made already (a value), patched at once.
 */
function whenMade(name: StdioStream, patch: (stream: Writable) => void, patcher: Patcher): void {
  const own = Object.getOwnPropertyDescriptor(process, name);
  const get = own?.get;
  if (own === undefined || get === undefined || own.configurable !== true) {
    patch(process[name]);
    return;
  }
  let made = false;
  const putBack = (): void => {
    if (Object.getOwnPropertyDescriptor(process, name)?.get === first) Object.defineProperty(process, name, own);
  };
  function first(this: unknown): Writable {
    const stream = Reflect.apply(get as () => Writable, this, []);
    putBack();
    if (!made) {
      made = true;
      patch(stream);
    }
    return stream;
  }
  Object.defineProperty(process, name, { ...own, get: first });
  patcher.onRestore(putBack);
}
