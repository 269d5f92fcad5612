/**
 * The logs of state dirs: a log's segments share a file-name prefix (`<service>-<log id>-`), and
 * its first header names its origin and key. Used by the commands that print or prove from logs.
 */
import { readFileSync } from 'node:fs';
import {
  CHECKPOINT_PREFIX,
  HEADER_PREFIX,
  RECORD_PREFIX,
  recordSeq,
  splitRecordLine,
  type CheckpointLine,
  type SegmentHeader,
} from './format.js';
import { forEachLine, listSegments, type SegmentRef } from './read.js';
import { cosignedPath } from './held-checkpoints.js';

export interface LogFiles {
  /** File-name prefix shared by the log's segments. */
  prefix: string;
  segments: SegmentRef[];
  header: SegmentHeader;
}

export function listLogs(stateDirs: readonly string[]): LogFiles[] {
  const logs = new Map<string, LogFiles>();
  for (const ref of listSegments(stateDirs)) {
    const prefix = ref.name.replace(/-\d+\.jsonl$/, '');
    const key = `${ref.stateDir}\u0000${prefix}`;
    const log = logs.get(key);
    if (log) {
      log.segments.push(ref);
      continue;
    }
    const header = firstLine(ref.path);
    if (header === undefined || !header.startsWith(HEADER_PREFIX)) continue;
    logs.set(key, { prefix, segments: [ref], header: JSON.parse(header) as SegmentHeader });
  }
  return [...logs.values()];
}

/** The log named by its origin, its file prefix, or one of its segment files. */
export function findLog(logs: readonly LogFiles[], name: string): LogFiles | undefined {
  return logs.find((log) => log.header.log === name || log.prefix === name || log.segments.some((s) => s.name === name || s.path === name));
}

function firstLine(path: string): string | undefined {
  let first: string | undefined;
  forEachLine(path, (line) => {
    first = line;
    return false;
  });
  return first;
}

/** The newest checkpoint note of a log: the witness client's cosigned copy when it is of that size. */
export function latestCheckpoint(log: LogFiles): string | undefined {
  let latest: string | undefined;
  for (const segment of log.segments) {
    forEachLine(segment.path, (line, terminated) => {
      if (terminated && line.startsWith(CHECKPOINT_PREFIX)) latest = (JSON.parse(line) as CheckpointLine).note;
    });
  }
  try {
    const cosigned = readFileSync(cosignedPath(log.segments[0].path), 'utf8');
    if (latest !== undefined && cosigned.startsWith(latest.slice(0, latest.indexOf('\n\n') + 1))) return cosigned;
  } catch {
    // No cosigned copy: the log's own note.
  }
  return latest;
}

/** The exact bytes of record `seq` of a log (its line without the hash member). */
export function readRecord(log: LogFiles, seq: number): Buffer | undefined {
  let found: Buffer | undefined;
  for (const segment of log.segments) {
    forEachLine(segment.path, (line, terminated) => {
      if (!terminated || !line.startsWith(RECORD_PREFIX) || recordSeq(line) !== seq) return;
      const parts = splitRecordLine(line);
      if (parts) found = Buffer.from(parts.canonical);
      return false;
    });
    if (found) return found;
  }
  return undefined;
}
