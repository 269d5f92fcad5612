/**
 * provenant's export thread: one thread for the OTLP span export and the journal's OTLP log
 * export, started without the preload (so its I/O is provenant's, never the app's flows). A thread
 * is a whole runtime (tens of milliseconds of CPU and MiB of memory to start), and the span and
 * log exporters share most of their modules, so both run here. Each loads its exporter when it
 * first has something to send.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { diag, DiagConsoleLogger, DiagLogLevel } from '@opentelemetry/api';
import { SpanExport, type SpanExportData } from '../lineage/span-export.js';
import type { FromWorker, ToWorker } from '../lineage/wire-span.js';
import { startLogDelivery, type LogExportData } from './log-delivery.js';

export interface ExportThreadData {
  /** Tells the preload (and the worker instrumentation) this thread is provenant's own. */
  provenantExportWorker: true;
  spans?: SpanExportData;
  logs?: LogExportData;
  logLevel?: DiagLogLevel;
}

const data = workerData as ExportThreadData;
if (data.logLevel !== undefined && data.logLevel !== DiagLogLevel.NONE) diag.setLogger(new DiagConsoleLogger(), data.logLevel);

const spans = data.spans
  ? new SpanExport(data.spans, (reason) => {
      const broken: FromWorker = { type: 'broken', reason };
      parentPort?.postMessage(broken);
    })
  : undefined;
const logs = data.logs ? startLogDelivery(data.logs) : undefined;

parentPort?.on('message', (message: ToWorker) => {
  if (message.type === 'spans') spans?.export(message.spans);
  else {
    // One flush for both exports: every exit path asks for both anyway.
    void Promise.all([spans?.flush(), logs?.flush()]).finally(() => {
      Atomics.store(message.flag, 0, 1);
      Atomics.notify(message.flag, 0);
    });
  }
});
