/**
 * What `verifyJournal` reports (per segment, per log, failures and warnings) and the failure a
 * segment check throws: the shapes the CLI, the UI and the evidence report read.
 */
import type { CheckpointBody } from './checkpoint.js';
import type { Note, Vkey } from './note.js';
import type { SegmentRef } from './read.js';

/** A checkpoint note from outside the journal (a witness, an exported span, an older copy). */
export interface HeldCheckpoint {
  /** Where it came from, for reports (`file:line`). */
  source: string;
  note: Note;
  body: CheckpointBody;
}

export interface VerifyOptions {
  /** Pinned log key (raw Ed25519): every log must be signed by it. */
  publicKey?: Buffer | undefined;
  /** Checkpoints held elsewhere: each log must still contain and match them. */
  held?: readonly HeldCheckpoint[] | undefined;
  /** Witness cosignature keys and how many must have cosigned each log. */
  witnesses?: { keys: readonly Vkey[]; quorum: number } | undefined;
}

export interface Problem {
  file: string;
  /** First sequence number that is missing, altered or not covered by a valid checkpoint. */
  seq: number | null;
  message: string;
}

export type SegmentStatus = 'ok' | 'unclosed' | 'failed';

export interface SegmentReport {
  file: string;
  path: string;
  log: string | null;
  service: string | null;
  pid: number | null;
  index: number | null;
  firstSeq: number | null;
  lastSeq: number | null;
  /** Flow records (leaves that are not source set definitions). */
  records: number;
  /** Source set definitions (format 3): leaves too. */
  definitions: number;
  checkpoints: number;
  vkey: string | null;
  /** The log's closing checkpoint is in this segment (clean shutdown). */
  closed: boolean;
  status: SegmentStatus;
}

export interface LogReport {
  origin: string;
  segments: number;
  /** Leaves of the log's tree: records and source set definitions (what checkpoints count). */
  records: number;
  /** Records covered by a checkpoint signed by the log key (or written, for unsigned logs). */
  checkpointed: number;
  /** Size of the largest checkpoint with a quorum of valid cosignatures (null without witnesses). */
  witnessed: number | null;
  closed: boolean;
  /** The first seq left when retention deleted the log's first segments; null when the log is whole. */
  prunedBefore: number | null;
}

export interface VerifyReport {
  ok: boolean;
  segments: SegmentReport[];
  logs: LogReport[];
  records: number;
  failures: Problem[];
  warnings: Problem[];
  /** What is neither a failure nor a warning but an auditor should read: a pruned prefix. */
  notes: Problem[];
}

/** A check of one segment failed at `seq` (null: before any record). */
export class SegmentFailure extends Error {
  constructor(
    readonly seq: number | null,
    message: string,
  ) {
    super(message);
  }
}

export function emptyReport(ref: SegmentRef): SegmentReport {
  return {
    file: ref.name,
    path: ref.path,
    log: null,
    service: null,
    pid: null,
    index: null,
    firstSeq: null,
    lastSeq: null,
    records: 0,
    definitions: 0,
    checkpoints: 0,
    vkey: null,
    closed: false,
    status: 'ok',
  };
}

export function parseJson<T>(line: string, seq: number | null, what: string): T {
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new SegmentFailure(seq, `${what} is not valid JSON`);
  }
}
