/**
 * On-disk format of journal segments (JSON lines, UTF-8, one object per line):
 *   line 1      a header  {"type":"header",...}            (not a leaf; its hash is bound into every checkpoint)
 *   then        records   {"seq":N,...,"hash":"<hex>"}    (leaves of the segment's Merkle tree, in order)
 *   and         checkpoints {"type":"checkpoint",...}      (tree size + root of the records before them)
 * A record's leaf input is its line without the trailing `,"hash":"…"` member — the exact bytes the
 * writer produced, so any change to a record, even whitespace, changes its leaf.
 */
import { hash } from 'node:crypto';
import type { FlowRecord } from '../engine/flow-record.js';

export const FORMAT_VERSION = 1;

export interface SegmentHeader {
  type: 'header';
  version: number;
  /** File name of this segment; a renamed file no longer verifies. */
  segment: string;
  service: string;
  node: string;
  pid: number;
  /** Process start (ISO); with pid and service it identifies the writing process. */
  started: string;
  /** Position of this segment in the process's sequence of segments, from 0. */
  index: number;
  /** Sequence number of the first record; seq runs on across a process's segments. */
  firstSeq: number;
  /** The previous segment's final checkpoint, which chains rotated segments; null for the first. */
  prev: { segment: string; treeSize: number; root: string } | null;
  /** Set when this segment was opened after a write failure: earlier records may be lost. */
  afterFailure: boolean;
  /** Ed25519 public key (SPKI DER, base64) that signs this segment's checkpoints; null when unsigned. */
  publicKey: string | null;
  keyId: string | null;
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

export interface Checkpoint {
  type: 'checkpoint';
  segment: string;
  /** SHA-256 (hex) of the segment's header line. */
  header: string;
  /** Number of records of this segment the root covers. */
  treeSize: number;
  /** RFC 9162 MTH (hex) of those records' leaves. */
  root: string;
  time: string;
  /** The segment's last checkpoint: written at close or rotation; nothing may follow it. */
  final: boolean;
  keyId: string | null;
  /** Ed25519 signature (base64) over `checkpointStatement(this)`; null when unsigned. */
  signature: string | null;
}

/** `,"hash":"` + 64 hex + `"}` */
const HASH_SUFFIX_LENGTH = 75;
const HASH_SUFFIX_PREFIX = ',"hash":"';

export const RECORD_PREFIX = '{"seq":';
export const HEADER_PREFIX = '{"type":"header"';
export const CHECKPOINT_PREFIX = '{"type":"checkpoint"';

/** Record line from its canonical JSON (no hash member) and its leaf hash. */
export function recordLine(canonical: string, leafHex: string): string {
  return canonical.slice(0, -1) + HASH_SUFFIX_PREFIX + leafHex + '"}';
}

/** Splits a record line into its canonical bytes and stated hash; undefined when malformed. */
export function splitRecordLine(line: string): { canonical: string; hash: string } | undefined {
  const at = line.length - HASH_SUFFIX_LENGTH;
  if (at <= 0 || !line.startsWith(HASH_SUFFIX_PREFIX, at) || !line.endsWith('"}')) return undefined;
  return { canonical: line.slice(0, at) + '}', hash: line.slice(at + HASH_SUFFIX_PREFIX.length, line.length - 2) };
}

/** The sequence number at the start of a record line, without parsing the whole line. */
export function recordSeq(line: string): number | undefined {
  const end = line.indexOf(',', RECORD_PREFIX.length);
  if (end < 0) return undefined;
  const text = line.slice(RECORD_PREFIX.length, end);
  return /^(0|[1-9][0-9]*)$/.test(text) ? Number(text) : undefined;
}

export function headerHash(headerLine: string): string {
  return hash('sha256', headerLine, 'hex');
}

/** The exact string a checkpoint signature covers; the header hash binds segment, process, key and chain. */
export function checkpointStatement(checkpoint: Omit<Checkpoint, 'signature'>): string {
  return [
    `provenant-checkpoint/${FORMAT_VERSION}`,
    `header=${checkpoint.header}`,
    `treeSize=${checkpoint.treeSize}`,
    `root=${checkpoint.root}`,
    `time=${checkpoint.time}`,
    `final=${checkpoint.final ? 1 : 0}`,
  ].join('\n');
}

/** Serialises in a fixed key order (the order verifiers and humans see). */
export function checkpointLine(checkpoint: Checkpoint): string {
  const { type, segment, header, treeSize, root, time, final, keyId, signature } = checkpoint;
  return JSON.stringify({ type, segment, header, treeSize, root, time, final, keyId, signature });
}
