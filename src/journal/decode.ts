/**
 * Journal lines back to `JournalRecord`s whatever the segment's format: format 2 as written,
 * format 3 with each record's source set resolved from the segment's definitions and its
 * service, node and pid taken from the header, format 4 also with each occurrence of a defined
 * flow completed from its definition, format 5 also with each occurrence's short members
 * expanded (see occurrences.ts) and each record's full leaf hash computed. Every reader of
 * records goes through a decoder, so commands print the same records for the same flows in any
 * format.
 */
import {
  HEADER_PREFIX,
  isFlowDefinitionLine,
  isFlowReference,
  isSetDefinitionLine,
  RECORD_PREFIX,
  READABLE_VERSIONS,
  recordSeq,
  splitRecordLine,
  type JournalRecord,
  type SegmentHeader,
  type SetDefinition,
  type StoredRecord,
} from './format.js';
import { leafHash } from './merkle.js';
import { logStart, RecentResolver } from './occurrences.js';
import { forEachLine, forEachLineIfPresent, listSegments, type SegmentRef } from './read.js';
import { FlowResolver } from './segment-flows.js';
import { SetResolver } from './set-resolver.js';

export class SegmentDecoder {
  /** Set definitions of a format-3 or 4 segment; undefined for format 2. */
  private readonly sets: SetResolver | undefined;
  /** Flow definitions of a format-4 segment. */
  private readonly flows: FlowResolver | undefined;
  /** The last records of a format-5 segment, which its occurrences build on. */
  private readonly recent: RecentResolver | undefined;

  constructor(readonly header: SegmentHeader) {
    this.sets = header.version >= 3 ? new SetResolver() : undefined;
    this.flows = header.version >= 4 ? new FlowResolver() : undefined;
    this.recent = header.version >= 5 ? new RecentResolver(logStart(header.log)) : undefined;
  }

  /** A decoder for the segment whose first line is `line`; undefined when it is not a header of a readable format. */
  static fromHeaderLine(line: string): SegmentDecoder | undefined {
    if (!line.startsWith(HEADER_PREFIX)) return undefined;
    const header = JSON.parse(line) as SegmentHeader;
    return READABLE_VERSIONS.includes(header.version) ? new SegmentDecoder(header) : undefined;
  }

  /**
   * The record on this line, resolved; undefined for any other line (a definition is registered
   * on the way). Lines must be fed in order. Throws on a line that does not parse or resolve.
   */
  record(line: string): JournalRecord | undefined {
    if (!line.startsWith(RECORD_PREFIX) || this.define(line)) return undefined;
    const parsed = JSON.parse(line) as StoredRecord & { h?: string };
    if (this.sets === undefined) return parsed as JournalRecord;
    const stored = this.take(line, parsed);
    const { seq, time, h: _check, hash: _hash, ...rest } = stored as StoredRecord & { h?: string };
    const { service, node, pid } = this.header;
    const hash = this.recent === undefined ? parsed.hash : computedHash(line);
    // The order of format 2 (seq, time, service, node, pid, op, …), sources in their place; an
    // occurrence's fields and its flow's in the order a whole record has them, then its hash.
    const record = (
      this.flows !== undefined && isFlowReference(line)
        ? { seq, time, service, node, pid, ...this.flows.resolve(stored), hash }
        : { seq, time, service, node, pid, ...rest, hash }
    ) as JournalRecord & { sources: unknown };
    if (typeof record.sources === 'number') record.sources = [...this.sets.sources(record.sources)];
    return record;
  }

  /**
   * Takes in a line before a reader's cursor: the sets and flows it defines, and in format 5 the
   * time, trace and attribute values of a record, which later occurrences build on.
   */
  pass(line: string): void {
    if (!line.startsWith(RECORD_PREFIX) || this.define(line) || this.recent === undefined) return;
    this.take(line, JSON.parse(line) as Record<string, unknown>);
  }

  /** A record line of format 3 to 5 as format 4 states it (format 5 occurrences expanded, in order). */
  private take(line: string, parsed: Record<string, unknown>): Record<string, unknown> {
    const recent = this.recent;
    if (recent === undefined) return parsed;
    const seq = parsed.seq as number;
    if (this.flows !== undefined && isFlowReference(line)) return recent.expand(seq, parsed, this.flows.namesOf(parsed.f));
    recent.whole(seq, parsed);
    return parsed;
  }

  /** Registers the line if it defines a set or a flow; true when it did. */
  private define(line: string): boolean {
    if (this.sets === undefined) return false;
    const sets = this.sets;
    if (isSetDefinitionLine(line)) {
      const { seq, ...definition } = JSON.parse(line) as SetDefinition & { seq: number };
      sets.define(seq, definition, false);
      return true;
    }
    if (this.flows === undefined || !isFlowDefinitionLine(line)) return false;
    const parsed = JSON.parse(line) as Record<string, unknown> & { seq: number };
    this.flows.define(parsed.seq, parsed, (set) => sets.has(set));
    return true;
  }
}

/**
 * Calls `onRecord` with every record of `path` past seq `after`, resolved, in order; the lines
 * before are only scanned for the source sets they define. Damaged lines and segments of an
 * unknown format are skipped (they are `verify`'s business), as is a segment retention deleted.
 * Returning false stops.
 */
export function forEachSegmentRecord(path: string, after: number, onRecord: (record: JournalRecord) => boolean | void): void {
  let decoder: SegmentDecoder | undefined;
  let first = true;
  forEachLineIfPresent(path, (line, terminated) => {
    if (first) {
      first = false;
      try {
        decoder = SegmentDecoder.fromHeaderLine(line);
      } catch {
        decoder = undefined;
      }
      return decoder !== undefined;
    }
    if (!terminated || decoder === undefined) return;
    let record: JournalRecord | undefined;
    try {
      if (after > 0 && (recordSeq(line) ?? 0) <= after) {
        decoder.pass(line);
        return;
      }
      record = decoder.record(line);
    } catch {
      return;
    }
    if (record !== undefined) return onRecord(record);
  });
}

/** Every readable record of the given state dirs (headers, definitions, checkpoints and damaged lines are skipped). */
export function forEachRecord(stateDirs: readonly string[], onRecord: (record: JournalRecord, segment: SegmentRef) => void): void {
  for (const segment of listSegments(stateDirs)) forEachSegmentRecord(segment.path, 0, (record) => onRecord(record, segment));
}

/** Record `seq` of the segments `paths` (one log's, in order), resolved; undefined when none has it. */
export function findRecord(paths: readonly string[], seq: number): JournalRecord | undefined {
  let found: JournalRecord | undefined;
  for (const path of paths) {
    forEachSegmentRecord(path, seq - 1, (record) => {
      if (record.seq === seq) found = record;
      return false;
    });
    if (found) return found;
  }
  return undefined;
}

/**
 * A decoder for the segment at `path` that has read the sets defined before record `seq`: for a
 * reader that starts mid-segment (after a restart, or a cursor left there), since a record may
 * name any set defined earlier in its segment. A damaged definition is skipped here; the records
 * naming it fail to resolve when they come.
 */
export function decoderBefore(path: string, header: SegmentHeader, seq: number): SegmentDecoder {
  const decoder = new SegmentDecoder(header);
  forEachLine(path, (line, terminated) => {
    const at = recordSeq(line);
    if (at === undefined) return;
    if (at >= seq || !terminated) return false;
    try {
      decoder.pass(line);
    } catch {
      // See above.
    }
  });
  return decoder;
}

/** The full leaf hash of a format-5 line, which states only a check of it. */
function computedHash(line: string): string {
  const parts = splitRecordLine(line);
  if (parts === undefined) throw new Error('record line without its check');
  return leafHash(parts.canonical).toString('hex');
}
