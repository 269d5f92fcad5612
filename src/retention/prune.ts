/**
 * One retention pass over a journal dir: whole segments are deleted oldest first while the dir is
 * over `maxBytes` or they were last written longer than `maxAgeSeconds` ago. A log loses segments
 * from its start only (a gap in the middle would break its chain), never the segment its running
 * process writes, never one a guard keeps. One process prunes a dir at a time (a lock file with its
 * pid). The caller journals what was deleted; a delete that fails stops that log's pruning.
 */
import { openSync, closeSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { RetentionConfig } from '../config/types.js';
import type { PruneEvidence } from '../journal/pruned-prefix.js';
import { processAlive } from '../support/process-alive.js';
import { Guards, type GuardOptions } from './guards.js';
import { logsOf, segmentEnd, type SegmentEnd, type SegmentInfo } from './segments.js';

/** What one pass deleted of one log: the evidence kept of it, less when and by whom. */
export type PrunedLog = Omit<PruneEvidence, 'time' | 'by' | 'pid'>;

export interface PruneResult {
  pruned: PrunedLog[];
  /** Segment bytes in the dir before and after. */
  before: number;
  after: number;
  /** Delete failures (each stopped its log's pruning). */
  problems: string[];
  /** The lock was held by another live process: nothing was done. */
  busy: boolean;
}

interface Candidate {
  segment: SegmentInfo;
  end: SegmentEnd;
}

export function pruneJournal(stateDir: string, retention: RetentionConfig, guards: GuardOptions, now: number): PruneResult {
  const dir = join(stateDir, 'journal');
  const lock = join(dir, 'retention.lock');
  const result: PruneResult = { pruned: [], before: 0, after: 0, problems: [], busy: false };
  if (!takeLock(lock)) return { ...result, busy: true };
  try {
    const logs = logsOf(dir);
    const all = [...logs.values()].flat();
    result.before = all.reduce((sum, s) => sum + s.size, 0);
    let total = result.before;
    const check = new Guards(guards);
    const cutoff = retention.maxAgeSeconds === null ? -Infinity : now - retention.maxAgeSeconds * 1000;
    const heads = [...logs.values()].map((segments) => ({ segments, at: 0 }));
    const byLog = new Map<string, PrunedLog>();
    for (;;) {
      let oldest: { segments: SegmentInfo[]; at: number } | undefined;
      for (const head of heads) {
        if (head.at < head.segments.length && (!oldest || head.segments[head.at].mtimeMs < oldest.segments[oldest.at].mtimeMs))
          oldest = head;
      }
      if (!oldest) break;
      const segment = oldest.segments[oldest.at];
      const overSize = retention.maxBytes !== null && total > retention.maxBytes;
      if (!overSize && segment.mtimeMs >= cutoff) break;
      const candidate = deletable(oldest.segments, oldest.at, check);
      if (!candidate) {
        oldest.at = oldest.segments.length;
        continue;
      }
      try {
        rmSync(segment.path);
      } catch (error) {
        result.problems.push(`cannot delete ${segment.name}: ${error instanceof Error ? error.message : String(error)}`);
        oldest.at = oldest.segments.length;
        continue;
      }
      total -= segment.size;
      oldest.at++;
      const entry = byLog.get(segment.prefix) ?? {
        log: segment.prefix,
        firstSegment: segment.name,
        lastSegment: segment.name,
        segments: 0,
        bytes: 0,
        throughSeq: 0,
        checkpoint: undefined,
        whole: false,
        reason: overSize ? 'maxBytes' : 'maxAgeSeconds',
      };
      entry.lastSegment = segment.name;
      entry.segments++;
      entry.bytes += segment.size;
      entry.throughSeq = candidate.end.lastSeq;
      entry.checkpoint = candidate.end.note;
      entry.whole = oldest.at === oldest.segments.length;
      byLog.set(segment.prefix, entry);
    }
    result.pruned = [...byLog.values()];
    result.after = total;
    return result;
  } finally {
    releaseLock(lock);
  }
}

/**
 * Segment `at` of a log, when it may go: a rotated one (a later segment continues the log), or
 * the last one of a log whose process closed it or is gone; and no guard keeps it.
 */
function deletable(segments: readonly SegmentInfo[], at: number, guards: Guards): Candidate | undefined {
  const segment = segments[at];
  const end = segmentEnd(segment.path);
  const last = at === segments.length - 1;
  if (last && end.closes !== 'log' && processAlive(segment.pid)) return undefined;
  if (!last && end.closes !== 'segment') return undefined;
  if (guards.reason(segment, end) !== undefined) return undefined;
  return { segment, end };
}

/** Creates the lock exclusively; a lock left by a process that is gone is taken over once. */
function takeLock(path: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o640);
      try {
        writeSync(fd, String(process.pid));
      } finally {
        closeSync(fd);
      }
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readText(path));
      if (Number.isSafeInteger(holder) && holder > 0 && processAlive(holder)) return false;
      rmSync(path, { force: true });
    }
  }
  return false;
}

function releaseLock(path: string): void {
  if (readText(path) === String(process.pid)) rmSync(path, { force: true });
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
