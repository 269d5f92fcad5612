/**
 * Decisions an asynchronous API takes after its call has returned, so the caller's thread pays
 * only for queuing one (issue 16: `fs.promises.writeFile` spent 60–80 µs deciding inside the
 * call, plain Node 4–10 µs). Each runs in its caller's flow context and in call order, once the
 * caller's synchronous run is over (a microtask), or earlier: before the engine decides or
 * records any other flow, every decision queued so far is taken first (`settle`). So a deferred
 * decision sees the context's provenance, the policy and the files' provenance as they were at
 * the call, and every later flow sees what it decided, as if it had been taken inside the call.
 * The API's original runs in `start`, after the decision, never before: no byte moves first.
 */
import type { FlowContext, FlowContexts } from '../provenance/context.js';

interface Waiting {
  readonly ctx: FlowContext;
  readonly decide: () => unknown;
  done: boolean;
  failed: boolean;
  outcome: unknown;
}

const SETTLED = Promise.resolve();

export class DeferredDecisions {
  private readonly queue: Waiting[] = [];
  private head = 0;
  private settling = false;

  constructor(private readonly contexts: FlowContexts) {}

  /**
   * Queue `decide`; the promise returned runs `start(outcome)` in the caller's async context once
   * it is taken, and settles as what `start` returns (or rejects with what `decide` or `start`
   * threw).
   */
  add<T>(decide: () => T, start: (outcome: T) => unknown): Promise<unknown> {
    const waiting: Waiting = { ctx: this.contexts.current(), decide, done: false, failed: false, outcome: undefined };
    this.queue.push(waiting);
    return SETTLED.then(() => start(this.outcomeOf(waiting) as T));
  }

  /** Take every decision waiting, in call order (each in its own context). */
  settle(): void {
    if (this.head === this.queue.length || this.settling) return;
    this.settling = true;
    try {
      while (this.head < this.queue.length) this.take(this.queue[this.head++]);
      this.queue.length = 0;
      this.head = 0;
    } finally {
      this.settling = false;
    }
  }

  private outcomeOf(waiting: Waiting): unknown {
    this.settle();
    // Fail closed: a decision that was never taken allows nothing.
    if (!waiting.done) throw new Error('provenant: an asynchronous fs decision was not taken; the call is refused');
    if (waiting.failed) throw waiting.outcome;
    return waiting.outcome;
  }

  private take(waiting: Waiting): void {
    const run = (): void => {
      try {
        waiting.outcome = waiting.decide();
      } catch (error) {
        waiting.failed = true;
        waiting.outcome = error;
      }
      waiting.done = true;
    };
    if (this.contexts.current() === waiting.ctx) run();
    else this.contexts.runWith(waiting.ctx, run);
  }
}
