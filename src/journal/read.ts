/**
 * Reading segments: listing the segment files of state dirs, iterating their lines without
 * holding a whole file in memory, and reading leaf hashes back (records come out of decode.ts).
 */
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { RECORD_PREFIX, recordSeq, splitRecordLine } from './format.js';
import { leafHash } from './merkle.js';

export interface SegmentRef {
  stateDir: string;
  /** File name (what the verifier names in reports). */
  name: string;
  path: string;
}

/** Segment files under `<state>/journal/` of every dir, sorted by name (process, then index). */
export function listSegments(stateDirs: readonly string[]): SegmentRef[] {
  const found: SegmentRef[] = [];
  for (const stateDir of stateDirs) {
    const dir = join(stateDir, 'journal');
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    for (const name of names.filter((n) => n.endsWith('.jsonl')).sort()) found.push({ stateDir, name, path: join(dir, name) });
  }
  return found;
}

const CHUNK = 8 << 20;

/**
 * Calls `onLine` for every line of a file, in order. `terminated` is false only for a last line
 * with no newline after it (a torn write or a cut file). Returns early when `onLine` returns false.
 */
export function forEachLine(path: string, onLine: (line: string, terminated: boolean) => boolean | void): void {
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(CHUNK);
    let carry: Buffer = Buffer.alloc(0);
    for (;;) {
      const read = readSync(fd, chunk, 0, CHUNK, null);
      if (read === 0) break;
      const data = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, read)]) : chunk.subarray(0, read);
      const last = data.lastIndexOf(0x0a);
      if (last < 0) {
        carry = Buffer.from(data);
        continue;
      }
      // A newline byte never occurs inside a UTF-8 sequence, so decoding up to it is safe.
      const lines = data.toString('utf8', 0, last).split('\n');
      carry = Buffer.from(data.subarray(last + 1));
      for (const line of lines) if (onLine(line, true) === false) return;
    }
    if (carry.length > 0) onLine(carry.toString('utf8'), false);
  } finally {
    closeSync(fd);
  }
}

/**
 * `forEachLine` for a segment retention may have deleted (readers that hold a log's segment list
 * from before): a file that is gone has no lines. Returns false when it was gone.
 */
export function forEachLineIfPresent(path: string, onLine: (line: string, terminated: boolean) => boolean | void): boolean {
  try {
    forEachLine(path, onLine);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** Leaf hashes of records with leaf index in [from, to) of one log's segments (seq = index + 1), as stated in the lines (computed from format 5's, which state a short check); deleted segments are skipped. */
export function readLeaves(segments: readonly string[], from: number, to: number): Buffer[] {
  const leaves: Buffer[] = [];
  for (const path of segments) {
    forEachLineIfPresent(path, (line, terminated) => {
      if (!terminated || !line.startsWith(RECORD_PREFIX)) return;
      const seq = recordSeq(line);
      if (seq === undefined || seq <= from) return;
      if (seq > to) return false;
      const parts = splitRecordLine(line);
      if (parts) leaves.push(parts.hash.length === 64 ? Buffer.from(parts.hash, 'hex') : leafHash(parts.canonical));
    });
    if (from + leaves.length >= to) break;
  }
  return leaves;
}
