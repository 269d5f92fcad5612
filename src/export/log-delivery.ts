/**
 * The journal's OTLP log export, run in provenant's export thread (export-worker.ts): off the
 * app's hot path and outside its instrumentation (no preload there). It reads journal lines past
 * the cursor, exports them, and moves the cursor only once the collector acknowledged them:
 * at-least-once delivery across collector outages and app restarts. A failed export is retried
 * with exponential backoff; a lag beyond the bound skips the oldest segments (they stay in the
 * journal) and says so in the state. The exporter is loaded when there is a first line to send.
 * Over 250 lines because the cursors, the bound, the per-segment decoders and the exporter are
 * this export's state, read and changed by every pass; line reading and mapping are their own modules.
 */
import { join } from 'node:path';
import { diag, TraceFlags } from '@opentelemetry/api';
import { ExportResultCode, millisToHrTime } from '@opentelemetry/core';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { decoderBefore, type SegmentDecoder } from '../journal/decode.js';
import { recordSeq, type CheckpointLine, type SegmentHeader } from '../journal/format.js';
import { fromCheckpoint, fromRecord } from './log-records.js';
import {
  closesSegment,
  countPending,
  lagBytes,
  loadState,
  noteSkip,
  readPending,
  saveState,
  segmentFiles,
  statePath,
  LOG_EXPORTER,
  type PendingLine,
  type SegmentFileInfo,
} from './outbox.js';

export type LogExportProtocol = 'grpc' | 'http/protobuf' | 'http/json';

export interface LogExportData {
  stateDir: string;
  protocol: LogExportProtocol;
  version: string;
  /** Past this many unacknowledged journal bytes, the oldest segments are skipped. */
  maxLagBytes: number;
}

export interface LogDelivery {
  /** Settles once everything written so far was tried (sent, or the collector found down). */
  flush(): Promise<void>;
}

const MAX_BATCH = 512;
/** How often the journal is looked at when there is nothing to send. */
const POLL_MS = 250;
const BACKOFF_MS = { first: 500, max: 30_000 };

/** Starts exporting the journal under `data.stateDir`; runs as long as the thread. */
export function startLogDelivery(data: LogExportData): LogDelivery {
  const journalDir = join(data.stateDir, 'journal');
  const path = statePath(data.stateDir, LOG_EXPORTER);
  const state = loadState(path);
  const headers = new Map<string, SegmentHeader>();
  /** Per segment being exported: the source sets it defined so far (format 3 records name them). */
  const decoders = new Map<string, SegmentDecoder>();
  const resources = new Map<string, Resource>();
  const scope = { name: 'provenant', version: data.version };
  let flushes: (() => void)[] = [];
  let exporter: Promise<LogRecordExporter | undefined> | undefined;
  let wake: (() => void) | undefined;
  let backingOff = false;
  /** No exporter could be loaded: nothing will ever be sent, so a flush never waits. */
  let broken = false;

  type Outcome = 'idle' | 'more' | 'failed' | 'broken';

  /** Loaded with the first line to send: a journal with nothing new never loads it. */
  function loadExporter(): Promise<LogRecordExporter | undefined> {
    exporter ??= createExporter(data.protocol).catch((error: unknown) => {
      diag.error('provenant: no OTLP log exporter could be loaded; the journal is not exported', error);
      broken = true;
      return undefined;
    });
    return exporter;
  }

  async function cycle(): Promise<Outcome> {
    const files = segmentFiles(journalDir);
    applyBound(files);
    const batch: PendingLine[] = [];
    const ends = new Map<string, { offset: number; done: boolean }>();
    for (const file of files) {
      const cursor = state.cursors[file.name];
      if (cursor?.done === true || file.size <= (cursor?.offset ?? 0)) continue;
      const { lines, end } = readPending(file, cursor?.offset ?? 0, MAX_BATCH - batch.length, headers);
      batch.push(...lines);
      const last = lines.at(-1);
      if (end > (cursor?.offset ?? 0))
        ends.set(file.name, { offset: end, done: last !== undefined && last.end === end && closesSegment(last) });
      if (batch.length >= MAX_BATCH) break;
    }
    if (ends.size === 0) return 'idle';
    const records = batch.flatMap((line) => toReadable(line) ?? []);
    if (records.length > 0) {
      const loaded = await loadExporter();
      if (loaded === undefined) return 'broken';
      if (!(await exportRecords(loaded, records))) {
        save();
        return 'failed';
      }
    }
    for (const [segment, cursor] of ends) {
      state.cursors[segment] = cursor;
      if (cursor.done) decoders.delete(segment);
    }
    state.exported += records.length;
    if (records.length > 0) {
      state.lastSuccess = new Date().toISOString();
      state.consecutiveFailures = 0;
    }
    save();
    return 'more';
  }

  function exportRecords(loaded: LogRecordExporter, records: ReadableLogRecord[]): Promise<boolean> {
    return new Promise((resolve) => {
      loaded.export(records, (result) => {
        if (result.code === ExportResultCode.SUCCESS) return resolve(true);
        state.failures++;
        state.consecutiveFailures++;
        state.lastFailure = { at: new Date().toISOString(), error: result.error?.message ?? 'export failed' };
        diag.warn('provenant: journal log export failed; retrying with backoff', result.error);
        resolve(false);
      });
    });
  }

  /** The oldest segments are skipped while the lag is past the bound: the journal keeps them. */
  function applyBound(files: readonly SegmentFileInfo[]): void {
    let lag = lagBytes(files, state);
    if (lag <= data.maxLagBytes) return;
    const reason = `the export lag (${lag} bytes) exceeded the bound of ${data.maxLagBytes} bytes (PROVENANT_EXPORT_MAX_LAG_BYTES); the lines stay in the journal`;
    for (const file of files) {
      if (lag <= data.maxLagBytes) break;
      const offset = state.cursors[file.name]?.offset ?? 0;
      if (file.size <= offset) continue;
      noteSkip(state, {
        segment: file.name,
        lines: countPending(file, offset),
        bytes: file.size - offset,
        reason,
        at: new Date().toISOString(),
      });
      state.cursors[file.name] = { offset: file.size, done: false };
      lag -= file.size - offset;
    }
    save();
  }

  /** The segment's decoder; one first met past the segment's start reads the sets defined before that line. */
  function decoderFor(line: PendingLine): SegmentDecoder {
    let decoder = decoders.get(line.segment);
    if (decoder === undefined) {
      decoder = decoderBefore(join(journalDir, line.segment), line.header, recordSeq(line.text) ?? Infinity);
      decoders.set(line.segment, decoder);
    }
    return decoder;
  }

  /** The line as an OTLP log record; undefined for a source set definition (records carry their sets) or a damaged line. */
  function toReadable(line: PendingLine): ReadableLogRecord | undefined {
    let record;
    try {
      if (line.kind === 'record') {
        const decoded = decoderFor(line).record(line.text);
        if (decoded === undefined) return undefined;
        record = fromRecord(line.header, decoded);
      } else {
        record = fromCheckpoint(line.header, JSON.parse(line.text) as CheckpointLine, line.offset);
      }
    } catch {
      noteSkip(state, {
        segment: line.segment,
        lines: 1,
        bytes: line.end - line.offset,
        reason: 'damaged line (provenant verify names it)',
        at: new Date().toISOString(),
      });
      return undefined;
    }
    const { traceId, spanId } = record;
    return {
      hrTime: millisToHrTime(record.timeMs),
      hrTimeObserved: millisToHrTime(Date.now()),
      ...(traceId !== undefined && spanId !== undefined ? { spanContext: { traceId, spanId, traceFlags: TraceFlags.NONE } } : {}),
      severityNumber: record.severityNumber,
      severityText: record.severityText,
      body: record.body,
      eventName: record.eventName,
      resource: resourceOf(line.header),
      instrumentationScope: scope,
      attributes: record.attributes,
      droppedAttributesCount: 0,
    };
  }

  /** The resource of the process that wrote the log, not of the one exporting it (after a restart they differ). */
  function resourceOf(header: SegmentHeader): Resource {
    let resource = resources.get(header.log);
    if (resource === undefined) {
      resource = resourceFromAttributes({
        'service.name': header.service,
        'host.name': header.node,
        'process.pid': header.pid,
        'provenant.node': header.node,
      });
      resources.set(header.log, resource);
    }
    return resource;
  }

  function save(): void {
    try {
      saveState(path, state);
    } catch (error) {
      // The cursor stays in memory: a restart re-sends from the last saved one (duplicates, no loss).
      diag.warn(`provenant: cannot save the export cursor ${path}`, error);
    }
  }

  function pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });
  }

  function releaseFlushes(): void {
    for (const settle of flushes) settle();
    flushes = [];
  }

  async function run(): Promise<void> {
    for (;;) {
      let outcome: Outcome;
      try {
        outcome = await cycle();
      } catch (error) {
        diag.warn('provenant: reading the journal for export failed', error);
        outcome = 'failed';
      }
      if (outcome === 'more') continue;
      releaseFlushes();
      if (outcome === 'broken') return;
      backingOff = outcome === 'failed';
      const delay = backingOff ? Math.min(BACKOFF_MS.max, BACKOFF_MS.first * 2 ** Math.max(0, state.consecutiveFailures - 1)) : POLL_MS;
      await pause(delay);
    }
  }

  void run();
  return {
    flush: () =>
      new Promise<void>((resolve) => {
        flushes.push(resolve);
        // Backing off: the collector is down, and an exit does not wait for it; the journal keeps the lines.
        if (backingOff || broken) releaseFlushes();
        else wake?.();
      }),
  };
}

async function createExporter(protocol: LogExportProtocol): Promise<LogRecordExporter> {
  // Each exporter reads OTEL_EXPORTER_OTLP_(LOGS_)ENDPOINT/HEADERS/TIMEOUT itself.
  switch (protocol) {
    case 'http/protobuf':
      return new (await import('@opentelemetry/exporter-logs-otlp-proto')).OTLPLogExporter();
    case 'http/json':
      return new (await import('@opentelemetry/exporter-logs-otlp-http')).OTLPLogExporter();
    default:
      return new (await import('@opentelemetry/exporter-logs-otlp-grpc')).OTLPLogExporter();
  }
}
