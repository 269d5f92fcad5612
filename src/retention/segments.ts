/**
 * The journal dir as retention sees it: every segment with its log, index, size and age, and what
 * its last complete line says (the checkpoint that closes it, or the last record of a crashed
 * process). Only the tail of a segment is read: a closed segment ends with its closing checkpoint.
 */
import { closeSync, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { parseCheckpointText } from '../journal/checkpoint.js';
import { CHECKPOINT_PREFIX, RECORD_PREFIX, recordSeq, type CheckpointLine } from '../journal/format.js';

export interface SegmentInfo {
  name: string;
  path: string;
  /** The file-name prefix its log's segments share. */
  prefix: string;
  pid: number;
  index: number;
  size: number;
  mtimeMs: number;
}

export interface SegmentEnd {
  /** Seq of the segment's last record (0: none). */
  lastSeq: number;
  /** The last line is a checkpoint that closes the segment (`segment`) or the whole log (`log`). */
  closes: CheckpointLine['closes'];
  /** That checkpoint's note, when the last line is a checkpoint. */
  note: string | undefined;
}

/** `<service>-<pid>-<startMs>-<rand>-<index>.jsonl`; the service part may hold dashes itself. */
const SEGMENT_NAME = /^(.*-(\d+)-\d+-[0-9a-f]+)-(\d+)\.jsonl$/;
/** A checkpoint line is a few hundred bytes; this is room for one with several cosignatures. */
const TAIL_BYTES = 64 * 1024;

/** The segments of every log in a journal dir, each log's in index order. */
export function logsOf(journalDir: string): Map<string, SegmentInfo[]> {
  const logs = new Map<string, SegmentInfo[]>();
  for (const name of readdirSync(journalDir)) {
    const match = SEGMENT_NAME.exec(name);
    if (!match) continue;
    const path = join(journalDir, name);
    const fd = openSync(path, 'r');
    let stat;
    try {
      stat = fstatSync(fd);
    } finally {
      closeSync(fd);
    }
    const segment = {
      name,
      path,
      prefix: match[1],
      pid: Number(match[2]),
      index: Number(match[3]),
      size: stat.size,
      mtimeMs: stat.mtimeMs,
    };
    logs.set(segment.prefix, [...(logs.get(segment.prefix) ?? []), segment]);
  }
  for (const segments of logs.values()) segments.sort((a, b) => a.index - b.index);
  return logs;
}

/** What the last complete line of a segment says. */
export function segmentEnd(path: string): SegmentEnd {
  const fd = openSync(path, 'r');
  let text: string;
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, TAIL_BYTES);
    const buffer = Buffer.allocUnsafe(length);
    const read = readSync(fd, buffer, 0, length, size - length);
    text = buffer.toString('utf8', 0, read);
  } finally {
    closeSync(fd);
  }
  // The bytes after the last newline are a torn write (or nothing); the line before is complete.
  const lines = text.slice(0, text.lastIndexOf('\n')).split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i];
    if (line.startsWith(CHECKPOINT_PREFIX)) {
      const checkpoint = JSON.parse(line) as CheckpointLine;
      const body = checkpoint.note.includes('\n\n') ? checkpoint.note.slice(0, checkpoint.note.indexOf('\n\n') + 1) : checkpoint.note;
      return { lastSeq: parseCheckpointText(body).size, closes: checkpoint.closes, note: checkpoint.note };
    }
    if (line.startsWith(RECORD_PREFIX)) return { lastSeq: recordSeq(line) ?? 0, closes: null, note: undefined };
  }
  return { lastSeq: 0, closes: null, note: undefined };
}
