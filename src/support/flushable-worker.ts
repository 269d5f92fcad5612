/**
 * A background worker thread the app thread only posts messages to, and can wait for, bounded,
 * from a synchronous exit path: a `{ type: 'flush', flag }` message is answered by the worker
 * storing 1 in `flag` and notifying once it has handled everything posted before it. Flushes of
 * several workers are asked first and waited for together (`waitForFlushes`), so they run in
 * parallel within one budget. The worker runs without the preload (execArgv: []), so its I/O is
 * provenant's, never the app's flows.
 */
import type { Worker } from 'node:worker_threads';
import { internally } from './reentrancy.js';

export interface FlushMessage {
  type: 'flush';
  flag: Int32Array;
}

/** A flush asked of a worker: its flag turns 1 once the worker handled everything posted before it. */
export type PendingFlush = Int32Array;

/**
 * Blocks until every flush settled or `timeoutMs` passed: one budget for all of them, as the
 * workers flush at once, each in its own thread.
 */
export function waitForFlushes(flushes: readonly (PendingFlush | undefined)[], timeoutMs: number): void {
  const deadline = performance.now() + timeoutMs;
  for (const flag of flushes) {
    if (flag === undefined) continue;
    const left = deadline - performance.now();
    if (left <= 0 || Atomics.wait(flag, 0, 0, left) === 'timed-out') return;
  }
}

export class FlushableWorker<In extends { type: string }, Out> {
  private readonly worker: Worker;
  /** The worker died: nothing will answer a flush, so exit paths do not wait for one. */
  private failed = false;

  constructor(file: string, workerData: unknown, onMessage: (message: Out) => void, onError: (error: Error) => void) {
    // Loaded here, not at import: loading worker_threads has effects Node keeps lazy for the app.
    const { Worker: WorkerClass } = process.getBuiltinModule('node:worker_threads');
    this.worker = new WorkerClass(file, { workerData, execArgv: [], stdout: false, stderr: false });
    this.worker.on('error', (error: Error) => {
      this.failed = true;
      onError(error);
    });
    this.worker.on('message', onMessage);
    // After the listeners: adding a 'message' listener refs the worker again.
    this.worker.unref();
  }

  post(message: In | FlushMessage): void {
    // provenant's own message, never an app flow to a thread.
    internally(() => this.worker.postMessage(message));
  }

  /**
   * Asks the worker to flush everything posted so far, without waiting; `waitForFlushes` waits.
   * Undefined when the worker died or cannot be reached: nothing will answer, so nothing waits.
   */
  requestFlush(): PendingFlush | undefined {
    if (this.failed) return undefined;
    const flag = new Int32Array(new SharedArrayBuffer(4));
    try {
      this.post({ type: 'flush', flag });
    } catch {
      return undefined;
    }
    return flag;
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }
}
