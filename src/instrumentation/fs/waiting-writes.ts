/**
 * Allowed asynchronous writes waiting for their provenance to reach the disk (callbacks.ts
 * `whenDurable`), in call order. Plain Node hands an asynchronous write to libuv's pool as it is
 * called, so a synchronous write, close or truncate the app makes next lands after it: loggers
 * rely on that (sonic-boom's flushSync after a write in flight, its destroy closing the fd while
 * a write is in flight). Such a call first settles what waits: the provenance is synced on this
 * thread (the caller blocks anyway, or is a close), then each waiting write runs in order, an
 * fd-level one synchronously (its callback still called asynchronously), so it lands first.
 */
import type { FsFlows } from './flows.js';

interface Waiting {
  /** Calls the original asynchronous API. */
  run: () => unknown;
  /** Does the same write synchronously and schedules the app's callback; absent: `run` is used. */
  runNow?: () => void;
  /** Hands the app's callback an error; the write never runs. */
  fail: (error: unknown) => void;
  settled: boolean;
}

export class WaitingWrites {
  private readonly queue: Waiting[] = [];
  /** Set while settling: the sync of the store goes through the patched fs too. */
  private settling = false;

  constructor(private readonly flows: FsFlows) {}

  /** Runs `run` once `durable` settles, unless a synchronous call settled it first. */
  add(durable: Promise<void>, run: () => unknown, fail: (error: unknown) => void, runNow?: () => void): void {
    const waiting: Waiting = { run, runNow, fail, settled: false };
    this.queue.push(waiting);
    durable.then(
      () => this.settle(waiting, () => waiting.run()),
      (error: unknown) => this.settle(waiting, () => waiting.fail(error)),
    );
  }

  /** Before a synchronous fd call or a close: every waiting write runs now, in call order. */
  settleAll(): void {
    if (this.queue.length === 0 || this.settling || !this.flows.recording) return;
    this.settling = true;
    try {
      let failure: unknown;
      try {
        this.flows.durableNow();
      } catch (error) {
        failure = error;
      }
      for (const waiting of this.queue.slice()) {
        this.settle(waiting, () => {
          if (failure !== undefined) waiting.fail(failure);
          else if (waiting.runNow) waiting.runNow();
          else waiting.run();
        });
      }
    } finally {
      this.settling = false;
    }
  }

  private settle(waiting: Waiting, action: () => void): void {
    if (waiting.settled) return;
    waiting.settled = true;
    this.queue.splice(this.queue.indexOf(waiting), 1);
    try {
      action();
    } catch (error) {
      // The original threw (bad arguments): its callback gets the error, as before it waited.
      waiting.fail(error);
    }
  }
}
