/**
 * Which journal log export the standard OTEL_* variables ask for, as the export thread's setup
 * (export-thread.ts runs it). What an exit flush cannot send in time stays in the journal and
 * goes with the next run.
 */
import { diag } from '@opentelemetry/api';
import type { LogExportData, LogExportProtocol } from './log-delivery.js';

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

/** The log export's part of the export thread's data. */
export function logExportData(stateDir: string, protocol: LogExportProtocol, env: NodeJS.ProcessEnv, version: string): LogExportData {
  return { stateDir, protocol, version, maxLagBytes: maxLagBytes(env) };
}

function maxLagBytes(env: NodeJS.ProcessEnv): number {
  const raw = env['PROVENANT_EXPORT_MAX_LAG_BYTES'];
  const value = raw === undefined ? NaN : Number(raw);
  if (Number.isSafeInteger(value) && value > 0) return value;
  if (raw !== undefined)
    diag.warn(`provenant: PROVENANT_EXPORT_MAX_LAG_BYTES "${raw}" is not a positive integer, using ${DEFAULT_MAX_LAG_BYTES}`);
  return DEFAULT_MAX_LAG_BYTES;
}
