/**
 * On-disk format of journal segments (JSON lines, UTF-8, one object per line):
 *   line 1      a header  {"type":"header",...}            (not a leaf)
 *   then        records   {"seq":N,...,"hash":"<hex>"}    (leaves of the log's Merkle tree, in order)
 *   and         checkpoints {"type":"checkpoint",...}      (a C2SP signed note of the log's tree)
 * A process writes one log: one Merkle tree whose leaves run on across the log's rotated segments,
 * so a checkpoint commits to everything the log recorded so far. Record `seq` is its leaf index + 1.
 * After a write failure the process starts a new log (a new origin): the lost records' leaves are
 * in the old tree, and no later checkpoint may contradict one already shared.
 * A record's leaf input is its line without the trailing `,"hash":"…"` member — the exact bytes the
 * writer produced, so any change to a record, even whitespace, changes its leaf.
 * Format 3 adds source-set definitions, leaves like records (`{"seq":N,"define":"sources",…}`):
 * a record names its sources by the seq of a definition earlier in the same segment, and drops
 * the service, node and pid its header states.
 * Format 4 adds flow definitions (`{"seq":N,"define":"flow",…}`): what a flow that repeats in a
 * segment has in common (op, resource, sources, labels, decision, rule, reason, policy, action,
 * attributes) is written once, and each occurrence is a short record `{"seq":M,"flow":N,…}` with
 * its own time, ids, user, sizes and the attribute values that differ.
 * Format 5 makes those occurrences short (see occurrences.ts): time as milliseconds after the
 * previous record, trace and span ids as base64url, a trace or set of attribute values repeated
 * from a record shortly before named by how far back it is, and every leaf line ends in
 * `,"h":"<6 base64url>"}` (the first 36 bits of its leaf hash) instead of the full hash in hex.
 * Readers accept 2 to 5 and resolve all to `JournalRecord` (see decode.ts).
 */
import type { FlowRecord } from '../engine/flow-record.js';

export const FORMAT_VERSION = 5;
/** Formats the readers and `verify` accept: 2 (sources inline, service/node/pid per record), 3 (source sets), 4 (flows), 5 (short occurrences). */
export const READABLE_VERSIONS: readonly number[] = [2, 3, 4, 5];

export interface SegmentHeader {
  type: 'header';
  version: number;
  /** File name of this segment; a renamed file no longer verifies. */
  segment: string;
  /** The log's origin (the checkpoint's first line): `provenant/<node>/<service>/<log id>`. */
  log: string;
  service: string;
  node: string;
  pid: number;
  /** Process start (ISO). */
  started: string;
  /** Position of this segment in its log, from 0. */
  index: number;
  /** Sequence number of this segment's first record (its leaf index + 1). */
  firstSeq: number;
  /** Set on the first segment of a log opened after a write failure ended `previousLog`. */
  afterFailure: boolean;
  previousLog: string | null;
  /** C2SP verifier key of the log key (`provenant/<node>/<service>+…`); null when unsigned. */
  vkey: string | null;
  /**
   * The tree's compact range at `firstSeq - 1`: the roots (hex) of its perfect subtrees, largest
   * first. With this segment's leaves it gives every later root, so the log still verifies after
   * retention deleted the segments before it. Absent in segments written before retention existed.
   */
  frontier?: string[];
}

/** What a checkpoint line closes: nothing, its segment (rotation: the log goes on in the next one), or the log. */
export type CheckpointEnd = 'segment' | 'log' | null;

export interface CheckpointLine {
  type: 'checkpoint';
  /** Writer's clock (ISO), informative only: the signed note holds origin, size and root. */
  time: string;
  closes: CheckpointEnd;
  /** The C2SP checkpoint as a signed note; with no key, the checkpoint text alone. */
  note: string;
}

/** A journal line: the writer's envelope around one engine `FlowRecord` (time as ISO text), and its leaf hash. */
export type JournalRecord = Omit<FlowRecord, 'time'> & {
  seq: number;
  /** ISO 8601, UTC. */
  time: string;
  service: string;
  node: string;
  pid: number;
  /** Leaf hash (hex) of the record's canonical bytes. */
  hash: string;
};

/** The service as it appears in segment file names (`<service>-<log id>-<index>.jsonl`). */
export function fileService(service: string): string {
  return service.replace(/[^A-Za-z0-9._-]/g, '_') || 'unknown';
}

/**
 * A record line as format 3 stores it: `sources` is the seq of its set's definition (or `[]` for
 * no source), and service, node and pid are the header's.
 */
export type StoredRecord = Omit<JournalRecord, 'sources' | 'service' | 'node' | 'pid'> & {
  sources: string[] | number;
  service?: string;
  node?: string;
  pid?: number;
};

/**
 * A source set, defined once per segment (format 3): the set `base` (the seq of an earlier
 * definition in the same segment) plus `add`, so a context that grows one source at a time writes
 * O(1) bytes per source. `count` and `digest` (`sourcesDigest` of the whole sorted set, as signed
 * baggage names a long set) let an auditor check the set from this one leaf's inclusion proof.
 */
export interface SetDefinition {
  base?: number;
  add: readonly string[];
  count: number;
  digest: string;
}

/** A definition that does not hold, or a record naming one its segment does not have (verify names its seq). */
export class DefinitionError extends Error {}

const DEFINITION_MARK = ',"define":"';
const SET_MARK = ',"define":"sources"';
export const FLOW_MARK = ',"define":"flow"';
const FLOW_REFERENCE = ',"flow":';
/** Format 5's occurrences name their flow by `f`. */
const SHORT_FLOW_REFERENCE = ',"f":';

/** Canonical bytes of a definition leaf (no hash member), fields in a fixed order. */
export function definitionCanonical(seq: number, definition: SetDefinition): string {
  const base = definition.base === undefined ? '' : `,"base":${definition.base}`;
  return `{"seq":${seq}${SET_MARK}${base},"add":${JSON.stringify(definition.add)},"count":${definition.count},"digest":${JSON.stringify(definition.digest)}}`;
}

/** The bytes right after a record line's seq, where format 3 and 4 mark definitions and flow references. */
function afterSeq(line: string, mark: string): boolean {
  const end = line.indexOf(',', RECORD_PREFIX.length);
  return end > 0 && line.startsWith(mark, end);
}

/** True for a definition line of any kind (checked on the bytes after the seq: no parse). */
export function isDefinitionLine(line: string): boolean {
  return afterSeq(line, DEFINITION_MARK);
}

export function isSetDefinitionLine(line: string): boolean {
  return afterSeq(line, SET_MARK);
}

export function isFlowDefinitionLine(line: string): boolean {
  return afterSeq(line, FLOW_MARK);
}

/** True for a format-4 record that names its flow's definition instead of stating it. */
export function isFlowReference(line: string): boolean {
  return afterSeq(line, SHORT_FLOW_REFERENCE) || afterSeq(line, FLOW_REFERENCE);
}

/** Format 2 to 4: `,"hash":"` + 64 hex + `"}` */
const HASH_SUFFIX_LENGTH = 75;
const HASH_SUFFIX_PREFIX = ',"hash":"';
/** Format 5: `,"h":"` + the first 6 characters of the leaf hash in base64url (36 bits) + `"}` */
const CHECK_SUFFIX_LENGTH = 14;
const CHECK_SUFFIX_PREFIX = ',"h":"';
const CHECK_CHARS = 6;

function check(leaf: Buffer): string {
  return leaf.toString('base64url', 0, 6).slice(0, CHECK_CHARS);
}

export const RECORD_PREFIX = '{"seq":';
export const HEADER_PREFIX = '{"type":"header"';
export const CHECKPOINT_PREFIX = '{"type":"checkpoint"';

/**
 * Record line from its canonical JSON (no hash member) and its leaf hash, as format 5 writes it:
 * a short check, enough to name the first damaged line; the tree and the checkpoints are the proof
 * (anyone who alters a line can recompute a stated hash, full or short).
 */
export function recordLine(canonical: string, leaf: Buffer): string {
  return canonical.slice(0, -1) + CHECK_SUFFIX_PREFIX + check(leaf) + '"}';
}

/**
 * Splits a record line into its canonical bytes and stated hash (64 hex in formats 2 to 4, the
 * 6-character check in 5); undefined when malformed.
 */
export function splitRecordLine(line: string): { canonical: string; hash: string } | undefined {
  if (!line.endsWith('"}')) return undefined;
  for (const [length, prefix] of [
    [CHECK_SUFFIX_LENGTH, CHECK_SUFFIX_PREFIX],
    [HASH_SUFFIX_LENGTH, HASH_SUFFIX_PREFIX],
  ] as const) {
    const at = line.length - length;
    if (at > 0 && line.startsWith(prefix, at))
      return { canonical: line.slice(0, at) + '}', hash: line.slice(at + prefix.length, line.length - 2) };
  }
  return undefined;
}

/** Whether a line's stated hash (full or short) is that of its leaf. */
export function statedHashMatches(stated: string, leaf: Buffer): boolean {
  return stated.length === 64 ? stated === leaf.toString('hex') : stated === check(leaf);
}

/** The sequence number at the start of a record line, without parsing the whole line. */
export function recordSeq(line: string): number | undefined {
  const end = line.indexOf(',', RECORD_PREFIX.length);
  if (end < 0) return undefined;
  const text = line.slice(RECORD_PREFIX.length, end);
  return /^(0|[1-9][0-9]*)$/.test(text) ? Number(text) : undefined;
}

/** Serialises in a fixed key order (the order verifiers and humans see). */
export function checkpointLine(checkpoint: Omit<CheckpointLine, 'type'>): string {
  const { time, closes, note } = checkpoint;
  return JSON.stringify({ type: 'checkpoint', time, closes, note });
}
