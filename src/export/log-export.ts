/**
 * The app-thread side of the journal's OTLP log export: which exporter the standard OTEL_*
 * variables ask for, the worker that does the export, and a bounded synchronous flush for exit
 * paths. What the flush cannot send in time stays in the journal and goes with the next run.
 */
import { ownFile } from '../support/own-files.js';
import { diag, type DiagLogLevel } from '@opentelemetry/api';
import { FlushableWorker, type PendingFlush } from '../support/flushable-worker.js';
import type { LogExportProtocol, LogExportWorkerData, ToLogExportWorker } from './log-export-worker.js';

/** 256 MiB of unacknowledged journal (about 600k records) before the oldest segments are skipped. */
const DEFAULT_MAX_LAG_BYTES = 256 * 1024 * 1024;

/** The protocol of the OTLP log export the environment asks for; undefined when none is. */
export function chooseLogExport(env: NodeJS.ProcessEnv): LogExportProtocol | undefined {
  if ((env['OTEL_SDK_DISABLED'] ?? '').trim().toLowerCase() === 'true') return undefined;
  const exporters = (env['OTEL_LOGS_EXPORTER'] ?? 'otlp').split(',').map((value) => value.trim().toLowerCase());
  if (!exporters.includes('otlp')) return undefined;
  const endpoint = env['OTEL_EXPORTER_OTLP_LOGS_ENDPOINT'] ?? env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  if (!endpoint || endpoint.trim() === '') return undefined;
  const protocol = (env['OTEL_EXPORTER_OTLP_LOGS_PROTOCOL'] ?? env['OTEL_EXPORTER_OTLP_PROTOCOL'] ?? 'grpc').trim().toLowerCase();
  if (protocol === 'http/protobuf' || protocol === 'http/json' || protocol === 'grpc') return protocol;
  diag.warn(`provenant: unknown OTLP logs protocol "${protocol}", using grpc`);
  return 'grpc';
}

function maxLagBytes(env: NodeJS.ProcessEnv): number {
  const raw = env['PROVENANT_EXPORT_MAX_LAG_BYTES'];
  const value = raw === undefined ? NaN : Number(raw);
  if (Number.isSafeInteger(value) && value > 0) return value;
  if (raw !== undefined)
    diag.warn(`provenant: PROVENANT_EXPORT_MAX_LAG_BYTES "${raw}" is not a positive integer, using ${DEFAULT_MAX_LAG_BYTES}`);
  return DEFAULT_MAX_LAG_BYTES;
}

export class LogExport {
  private readonly worker: FlushableWorker<ToLogExportWorker, never>;

  constructor(stateDir: string, protocol: LogExportProtocol, env: NodeJS.ProcessEnv, version: string, logLevel: DiagLogLevel) {
    const workerData: LogExportWorkerData = {
      provenantLogExportWorker: true,
      stateDir,
      protocol,
      version,
      maxLagBytes: maxLagBytes(env),
      logLevel,
    };
    this.worker = new FlushableWorker(
      ownFile('export', 'log-export-worker.js'),
      workerData,
      () => undefined,
      (error) => diag.warn('provenant: journal log export worker failed; the journal keeps every record for the next run', error),
    );
  }

  /** Asks for a flush (settled once everything journalled so far was tried (sent, or the collector found down)); `waitForFlushes` waits for it. */
  requestFlush(): PendingFlush | undefined {
    return this.worker.requestFlush();
  }

  async close(): Promise<void> {
    await this.worker.close();
  }
}
