/**
 * The app-thread side of OpenLineage export: hands each checkpoint to the export worker (a message
 * post, never I/O on the app's path) and reports failures through diag. `flushSync` blocks,
 * bounded, until the worker tried to send what was submitted, so the final checkpoint's records
 * leave at exit when the receiver is up; whatever is left stays behind the cursor for the next start.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { diag } from '@opentelemetry/api';
import type { OpenLineageWorkerData, FromOpenLineageWorker, ToOpenLineageWorker } from './export-worker.js';

export interface CheckpointRef {
  size: number;
  segments: readonly string[];
}

export class OpenLineageExport {
  private readonly worker: Worker;

  constructor(data: OpenLineageWorkerData) {
    // execArgv: [] so the worker never loads the preload: its requests are provenant's, not the app's flows.
    this.worker = new Worker(join(__dirname, 'export-worker.js'), { workerData: data, execArgv: [], stdout: false, stderr: false });
    this.worker.on('error', (error) => diag.warn('provenant: OpenLineage export worker failed; runs are no longer exported', error));
    this.worker.on('message', (message: FromOpenLineageWorker) => diag.warn(`provenant: ${message.message}`));
    // After the listeners: adding a 'message' listener refs the worker again.
    this.worker.unref();
  }

  submit(checkpoint: CheckpointRef): void {
    this.post({ type: 'checkpoint', size: checkpoint.size, segments: [...checkpoint.segments] });
  }

  /** Blocks until the worker had one try at everything submitted or `timeoutMs` passed; true when it did. */
  flushSync(timeoutMs: number): boolean {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    this.post({ type: 'flush', flag });
    return Atomics.wait(flag, 0, 0, timeoutMs) !== 'timed-out';
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }

  private post(message: ToOpenLineageWorker): void {
    this.worker.postMessage(message);
  }
}
