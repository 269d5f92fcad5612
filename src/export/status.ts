/** What `provenant export status` shows: an exporter's lag behind the journal and its delivery history. */
import { join } from 'node:path';
import { countPending, loadState, segmentFiles, statePath, type Skipped } from './outbox.js';

export interface ExportStatusReport {
  exporter: string;
  stateDir: string;
  /** Journal lines (records and checkpoints) and bytes not acknowledged by the collector yet. */
  lag: { records: number; bytes: number; segments: number };
  exported: number;
  lastSuccess: string | null;
  lastFailure: { at: string; error: string } | null;
  failures: number;
  consecutiveFailures: number;
  skipped: { lines: number; latest: Skipped[] };
  /** No export has ever run against this state dir (no cursor file). */
  neverRun: boolean;
}

export function exportStatus(stateDir: string, exporter: string): ExportStatusReport {
  const path = statePath(stateDir, exporter);
  const state = loadState(path);
  const lag = { records: 0, bytes: 0, segments: 0 };
  for (const file of segmentFiles(join(stateDir, 'journal'))) {
    const offset = state.cursors[file.name]?.offset ?? 0;
    if (file.size <= offset) continue;
    lag.records += countPending(file, offset);
    lag.bytes += file.size - offset;
    lag.segments++;
  }
  return {
    exporter,
    stateDir,
    lag,
    exported: state.exported,
    lastSuccess: state.lastSuccess,
    lastFailure: state.lastFailure,
    failures: state.failures,
    consecutiveFailures: state.consecutiveFailures,
    skipped: { lines: state.skippedLines, latest: state.skipped },
    neverRun: Object.keys(state.cursors).length === 0 && state.failures === 0,
  };
}
