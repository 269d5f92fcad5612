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
  const { stdout, stderr } = process;
  // The gate sits on the write of the stream's class (tty.WriteStream, net.Socket for a pipe, the
  // file writer), for these two streams only: an own `write` on process.stdout reads as "someone
  // replaced stdout" to loggers that check (pino then writes through process.stdout instead of
  // straight to fd 1, and crashes on a broken pipe it handles plain).
  for (const [name, stream] of [
    ['stdout', stdout],
    ['stderr', stderr],
  ] as const) {
    const { resource, attributes } = gate.target(name);
    decideAs(stream, resource, attributes, () =>
      gate.deciding.active || gate.passing.active || isInternal() ? undefined : gate.authorize(name, undefined),
    );
  }
  const protos = new Set([stdout, stderr].map((stream) => stream.constructor.prototype as Writable));
  for (const proto of protos) {
    patcher.wrap(
      proto,
      'write',
      (write) =>
        function (this: Writable, ...args: unknown[]): boolean {
          const name: StdioStream | undefined = this === stdout ? 'stdout' : this === stderr ? 'stderr' : undefined;
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
  }
}
