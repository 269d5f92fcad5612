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
 */
import type { Writable } from 'node:stream';
import type { ProvenantConfig, StdioStream } from '../../config/types.js';
import type { FlowEngine } from '../../engine/flow-engine.js';
import type { ProvenanceSet } from '../../provenance/provenance-set.js';
import { isInternal, ReentrancyGuard } from '../../support/reentrancy.js';
import { sizeOf } from '../fs/flows.js';
import type { Patcher } from '../patcher.js';

type Callback = (error?: Error | null) => void;

export function patchStdio(engine: FlowEngine, config: ProvenantConfig, patcher: Patcher, inherited: ProvenanceSet | undefined): void {
  // A write made while deciding one (provenant's own diagnostics on stderr) is not the app's.
  const deciding = new ReentrancyGuard();
  const streams: [StdioStream, Writable][] = [
    ['stdout', process.stdout],
    ['stderr', process.stderr],
  ];
  for (const [name, stream] of streams) {
    const resource = engine.resources.stdio(name, inherited === undefined);
    const options = { attributes: { 'provenant.stdio': name } };
    // An unlabelled console is written by every request: its allowed writes are decided, not journaled.
    const recordAll = config.resources.some((entry) => entry.match.stdio === name);
    patcher.wrap(
      stream,
      'write',
      (write) =>
        function (this: Writable, ...args: unknown[]): boolean {
          if (deciding.active || isInternal()) return Reflect.apply(write, this, args) as boolean;
          const denied = deciding.run(() => {
            const data = engine.contexts.current().provenance;
            if (inherited !== undefined && engine.sets.union(inherited, data) === inherited) return undefined;
            if (!recordAll && engine.decide(resource).kind === 'allow') return undefined;
            const decision = engine.authorizeWrite(resource, sizeOf(args[0]), options);
            return decision.kind === 'deny' ? engine.deniedError(decision, resource) : undefined;
          });
          if (!denied) return Reflect.apply(write, this, args) as boolean;
          const callback = args.find((arg): arg is Callback => typeof arg === 'function');
          if (callback) process.nextTick(callback, denied);
          else if (this.listenerCount('error') > 0) process.nextTick(() => this.emit('error', denied));
          return true;
        } as Writable['write'],
    );
  }
}
