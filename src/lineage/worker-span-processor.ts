/**
 * Span processor that batches finished spans to the export worker. `flushSync` blocks the
 * calling thread (bounded) until the worker has exported everything: usable from process
 * 'exit', where no asynchronous work can run.
 */
import { Worker } from 'node:worker_threads';
import { diag } from '@opentelemetry/api';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';
import { internally } from '../support/reentrancy.js';
import type { ExportWorkerData } from './export-worker.js';
import { toWireSpan, type ToWorker, type WireSpan } from './wire-span.js';

const BATCH_DELAY_MS = 200;
const MAX_BATCH = 512;
/** Spans held while the worker is slow; beyond this they are dropped and counted. */
const MAX_PENDING = 8192;

export class WorkerSpanProcessor implements SpanProcessor {
  private readonly worker: Worker;
  private pending: WireSpan[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  dropped = 0;

  constructor(workerFile: string, data: ExportWorkerData) {
    // execArgv: [] so the worker never loads the preload (-r/--import) itself.
    this.worker = new Worker(workerFile, { workerData: data, execArgv: [], stdout: false, stderr: false });
    this.worker.unref();
    this.worker.on('error', (error) => diag.warn('provenant: span export worker failed; spans are no longer exported', error));
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (this.closed) return;
    if (this.pending.length >= MAX_PENDING) {
      this.dropped++;
      return;
    }
    this.pending.push(toWireSpan(span));
    if (this.pending.length >= MAX_BATCH) this.send();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.send(), BATCH_DELAY_MS);
      this.timer.unref();
    }
  }

  /** Block until the worker has exported everything sent so far, at most `timeoutMs`. */
  flushSync(timeoutMs: number): boolean {
    this.send();
    const flag = new Int32Array(new SharedArrayBuffer(4));
    this.post({ type: 'flush', flag });
    return Atomics.wait(flag, 0, 0, timeoutMs) !== 'timed-out';
  }

  forceFlush(): Promise<void> {
    this.send();
    const flag = new Int32Array(new SharedArrayBuffer(4));
    this.post({ type: 'flush', flag });
    const { value } = Atomics.waitAsync(flag, 0, 0, 10_000);
    return typeof value === 'string' ? Promise.resolve() : value.then(() => undefined);
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
    this.closed = true;
    await this.worker.terminate();
  }

  private send(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.length === 0) return;
    const spans = this.pending;
    this.pending = [];
    this.post({ type: 'spans', spans });
  }

  private post(message: ToWorker): void {
    try {
      // provenant's own message, not an app flow to a worker thread.
      internally(() => this.worker.postMessage(message));
    } catch (error) {
      diag.warn('provenant: could not hand spans to the export worker', error);
    }
  }
}
