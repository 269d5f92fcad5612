/**
 * The journal as the durable outbox of an exporter. The exporter's cursor — for every segment
 * file, how many bytes of it the collector has acknowledged — is kept in
 * `<state>/export/<exporter>.json` (written through a temporary file and a rename: never half
 * written) with the delivery history `provenant export status` shows. Nothing here deletes
 * or changes the journal: a record the bound skips stays in it, and the state says which and why.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { forEachLine } from '../journal/read.js';
import { writeFileAtomically } from '../support/atomic-file.js';
import { CHECKPOINT_PREFIX, HEADER_PREFIX, isDefinitionLine, RECORD_PREFIX, type SegmentHeader } from '../journal/format.js';

export interface SegmentCursor {
  /** Bytes of the segment acknowledged (or skipped): always the end of a complete line. */
  offset: number;
  /** The segment ends with a checkpoint that closes it: nothing will be appended any more. */
  done: boolean;
}

export interface Skipped {
  segment: string;
  /** Journal lines (records and checkpoints) not exported. */
  lines: number;
  bytes: number;
  reason: string;
  at: string;
}

export interface OutboxState {
  cursors: Record<string, SegmentCursor>;
  /** Log records the collector acknowledged, over the state dir's life. */
  exported: number;
  lastSuccess: string | null;
  lastFailure: { at: string; error: string } | null;
  /** Failed export attempts, over the state dir's life, and since the last success. */
  failures: number;
  consecutiveFailures: number;
  /** The latest skips (at most MAX_SKIPS kept; `skippedLines` counts them all). */
  skipped: Skipped[];
  skippedLines: number;
}

/** One journal line past the cursor. */
export interface PendingLine {
  segment: string;
  header: SegmentHeader;
  text: string;
  kind: 'record' | 'checkpoint';
  /** Byte offset of the line's start, and of the next line. */
  offset: number;
  end: number;
}

/** The name of the OTLP log export's state file (`<state>/export/otlp-logs.json`). */
export const LOG_EXPORTER = 'otlp-logs';
const MAX_SKIPS = 100;
const READ_CHUNK = 1 << 20;

export function emptyState(): OutboxState {
  return {
    cursors: {},
    exported: 0,
    lastSuccess: null,
    lastFailure: null,
    failures: 0,
    consecutiveFailures: 0,
    skipped: [],
    skippedLines: 0,
  };
}

export function statePath(stateDir: string, exporter: string): string {
  return join(stateDir, 'export', `${exporter}.json`);
}

export function loadState(path: string): OutboxState {
  try {
    return { ...emptyState(), ...(JSON.parse(readFileSync(path, 'utf8')) as Partial<OutboxState>) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
    // A damaged state file means re-sending from the start: duplicates, never a loss.
    return emptyState();
  }
}

/**
 * Saves `state`, merged with what another process sharing the state dir saved meanwhile (the
 * furthest cursor of each segment wins), so two exporters never move a cursor back.
 */
export function saveState(path: string, state: OutboxState): void {
  const onDisk = loadState(path);
  for (const [segment, cursor] of Object.entries(onDisk.cursors)) {
    const mine = state.cursors[segment];
    if (mine === undefined || mine.offset < cursor.offset) state.cursors[segment] = cursor;
  }
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileAtomically(path, JSON.stringify(state));
}

export interface SegmentFileInfo {
  name: string;
  path: string;
  size: number;
  mtimeMs: number;
}

/** Segment files of a journal dir, oldest first (by modification time, then name). */
export function segmentFiles(journalDir: string): SegmentFileInfo[] {
  let names: string[];
  try {
    names = readdirSync(journalDir).filter((name) => name.endsWith('.jsonl'));
  } catch {
    return [];
  }
  const files: SegmentFileInfo[] = [];
  for (const name of names) {
    const path = join(journalDir, name);
    try {
      const stat = statSync(path);
      files.push({ name, path, size: stat.size, mtimeMs: stat.mtimeMs });
    } catch {
      // Removed between listing and stat.
    }
  }
  return files.sort((a, b) => a.mtimeMs - b.mtimeMs || a.name.localeCompare(b.name));
}

/** Bytes past the cursors: what the collector has not acknowledged yet. */
export function lagBytes(files: readonly SegmentFileInfo[], state: OutboxState): number {
  return files.reduce((sum, file) => sum + Math.max(0, file.size - (state.cursors[file.name]?.offset ?? 0)), 0);
}

/**
 * Complete lines of `file` from `offset` on, at most `limit` records and checkpoints (the header
 * is skipped but read once, for the log it names). A torn last line is left for a later read.
 */
export function readPending(
  file: SegmentFileInfo,
  offset: number,
  limit: number,
  headers: Map<string, SegmentHeader>,
): { lines: PendingLine[]; end: number } {
  const lines: PendingLine[] = [];
  const fd = openSync(file.path, 'r');
  try {
    const size = fstatSync(fd).size;
    let position = offset;
    let header = headers.get(file.name) ?? (offset > 0 ? readHeader(file.path) : undefined);
    if (header !== undefined) headers.set(file.name, header);
    let carry = Buffer.alloc(0);
    let carryStart = position;
    while (position < size && lines.length < limit) {
      const chunk = Buffer.allocUnsafe(Math.min(READ_CHUNK, size - position));
      const read = readSync(fd, chunk, 0, chunk.length, position);
      if (read === 0) break;
      position += read;
      const data = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, read)]) : chunk.subarray(0, read);
      let start = 0;
      for (let newline = data.indexOf(0x0a); newline >= 0 && lines.length < limit; newline = data.indexOf(0x0a, start)) {
        const text = data.toString('utf8', start, newline);
        const lineOffset = carryStart + start;
        start = newline + 1;
        if (text.startsWith(HEADER_PREFIX)) {
          header = JSON.parse(text) as SegmentHeader;
          headers.set(file.name, header);
          offset = carryStart + start;
          continue;
        }
        const kind = text.startsWith(RECORD_PREFIX) ? 'record' : text.startsWith(CHECKPOINT_PREFIX) ? 'checkpoint' : undefined;
        // A damaged line is `verify`'s business; the cursor passes it like any other.
        if (kind !== undefined && header !== undefined)
          lines.push({ segment: file.name, header, text, kind, offset: lineOffset, end: carryStart + start });
        offset = carryStart + start;
      }
      carry = Buffer.from(data.subarray(start));
      carryStart += start;
    }
    return { lines, end: offset };
  } finally {
    closeSync(fd);
  }
}

function readHeader(path: string): SegmentHeader | undefined {
  let header: SegmentHeader | undefined;
  forEachLine(path, (line) => {
    if (line.startsWith(HEADER_PREFIX)) header = JSON.parse(line) as SegmentHeader;
    return false;
  });
  return header;
}

/** Journal lines to export (records and checkpoints) of a segment past `offset`, counted without keeping them. */
export function countPending(file: SegmentFileInfo, offset: number): number {
  // Decided line by line: source set definitions are not exported (records carry their sources).
  let position = 0;
  let lines = 0;
  forEachLine(file.path, (line, terminated) => {
    const start = position;
    position += Buffer.byteLength(line) + 1;
    if (position > file.size || !terminated) return false;
    if (start < offset) return;
    if (line.startsWith(RECORD_PREFIX) ? !isDefinitionLine(line) : line.startsWith(CHECKPOINT_PREFIX)) lines++;
  });
  return lines;
}

/** Whether a checkpoint line closes its segment (rotation or the log's end). */
export function closesSegment(line: PendingLine): boolean {
  return line.kind === 'checkpoint' && !line.text.includes('"closes":null');
}

/** Records that `lines` journal lines of `segment` were skipped, and why; keeps the newest MAX_SKIPS. */
export function noteSkip(state: OutboxState, skip: Skipped): void {
  state.skipped.push(skip);
  state.skippedLines += skip.lines;
  if (state.skipped.length > MAX_SKIPS) state.skipped.splice(0, state.skipped.length - MAX_SKIPS);
}
