/**
 * The app-thread side of OpenLineage export: hands each checkpoint to the export worker (a message
 * post, never I/O on the app's path) and reports failures through diag. `flushSync` blocks,
 * bounded, until the worker tried to send what was submitted, so the final checkpoint's records
 * leave at exit when the receiver is up; whatever is left stays behind the cursor for the next start.
 */
import { ownFile } from '../support/own-files.js';
import { diag } from '@opentelemetry/api';
import { FlushableWorker, type PendingFlush } from '../support/flushable-worker.js';
import type { OpenLineageWorkerData, FromOpenLineageWorker, ToOpenLineageWorker } from './export-worker.js';

export interface CheckpointRef {
  size: number;
  segments: readonly string[];
}

export class OpenLineageExport {
  private readonly worker: FlushableWorker<ToOpenLineageWorker, FromOpenLineageWorker>;

  constructor(data: OpenLineageWorkerData) {
    this.worker = new FlushableWorker(
      ownFile('openlineage', 'export-worker.js'),
      data,
      (message: FromOpenLineageWorker) => diag.warn(`provenant: ${message.message}`),
      (error) => diag.warn('provenant: OpenLineage export worker failed; runs are no longer exported', error),
    );
  }

  submit(checkpoint: CheckpointRef): void {
    this.worker.post({ type: 'checkpoint', size: checkpoint.size, segments: [...checkpoint.segments] });
  }

  /** Asks for a flush (settled once the worker had one try at everything submitted); `waitForFlushes` waits for it. */
  requestFlush(): PendingFlush | undefined {
    return this.worker.requestFlush();
  }

  close(): Promise<number> {
    return this.worker.close();
  }
}
