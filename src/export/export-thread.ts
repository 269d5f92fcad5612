/**
 * The app-thread side of provenant's export thread (export-worker.ts): started once per
 * instrumented thread when spans or journal logs are exported over OTLP, shared by both.
 */
import { diag } from '@opentelemetry/api';
import { FlushableWorker, type PendingFlush } from '../support/flushable-worker.js';
import { ownFile } from '../support/own-files.js';
import type { SpanExportPort } from '../lineage/worker-span-processor.js';
import type { FromWorker, ToWorker } from '../lineage/wire-span.js';
import type { ExportThreadData } from './export-worker.js';

export class ExportThread implements SpanExportPort {
  private readonly worker: FlushableWorker<ToWorker, FromWorker>;
  private readonly brokenListeners: ((reason: string) => void)[] = [];

  /** `file`: the thread's script, for tests that start one that fails. */
  constructor(data: ExportThreadData, file = ownFile('export', 'export-worker.js')) {
    this.worker = new FlushableWorker<ToWorker, FromWorker>(
      file,
      data,
      (message) => this.broken(message.reason),
      (error) => {
        diag.warn(
          'provenant: the export thread failed; spans are no longer exported, the journal keeps every record for the next run',
          error,
        );
        this.broken(error.message);
      },
    );
  }

  post(message: ToWorker): void {
    this.worker.post(message);
  }

  onBroken(listener: (reason: string) => void): void {
    this.brokenListeners.push(listener);
  }

  /** Settles once both exports tried everything handed over or journalled so far; `waitForFlushes` waits. */
  requestFlush(): PendingFlush | undefined {
    return this.worker.requestFlush();
  }

  async close(): Promise<void> {
    await this.worker.close();
  }

  private broken(reason: string): void {
    for (const listener of this.brokenListeners) listener(reason);
  }
}
