/**
 * A log whose first segments retention deleted: its first retained segment's header carries the
 * tree's compact range (frontier) at `firstSeq - 1`, and the verifier continues the tree from it.
 * The frontier is not signed by itself: a forged one gives roots that no signed checkpoint of
 * the retained records matches, so the first checkpoint after it fails; and retention's own
 * record of the deletion (`<state>/retention/pruned.jsonl`) holds the signed checkpoint that
 * closed the last deleted segment, which the frontier must match at once.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCheckpointText } from './checkpoint.js';
import type { SegmentHeader } from './format.js';
import { MerkleAccumulator } from './merkle.js';
import { checkNoteSignature, NoteError, parseNote, type Vkey } from './note.js';
import { SegmentFailure } from './verify-report.js';

/** Where retention keeps its record of every deletion, under the state dir; never pruned itself. */
export const PRUNED_FILE = join('retention', 'pruned.jsonl');

/** One line of PRUNED_FILE: what one retention pass deleted of one log. */
export interface PruneEvidence {
  time: string;
  /** The log origin of the process that deleted them. */
  by: string | null;
  pid: number;
  /** The segments' file-name prefix. */
  log: string;
  /** The first and last segment deleted (the ones between went too) and how many. */
  firstSegment: string;
  lastSegment: string;
  segments: number;
  bytes: number;
  /** Seq of the last record deleted. */
  throughSeq: number;
  /** The checkpoint that closed the last deleted segment (signed when the log is). */
  checkpoint?: string | undefined;
  /** No segment of the log is left. */
  whole: boolean;
  reason: 'maxBytes' | 'maxAgeSeconds';
}

/** The evidence lines of a state dir (none when retention never ran there); a damaged line is skipped. */
export function readPruneEvidence(stateDir: string): PruneEvidence[] {
  let text: string;
  try {
    text = readFileSync(join(stateDir, PRUNED_FILE), 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').flatMap((line) => {
    try {
      return line === '' ? [] : [JSON.parse(line) as PruneEvidence];
    } catch {
      return [];
    }
  });
}

/** The tree as it stood before the header's first record; throws when the header cannot give it. */
export function treeBefore(header: SegmentHeader): MerkleAccumulator {
  const size = header.firstSeq - 1;
  if (!Array.isArray(header.frontier))
    throw new SegmentFailure(
      header.firstSeq,
      `segment ${header.index} is the first left of its log, and its header has no frontier to continue the tree from: segment(s) are missing`,
    );
  if (!header.frontier.every((peak) => typeof peak === 'string' && /^[0-9a-f]{64}$/.test(peak)))
    throw new SegmentFailure(header.firstSeq, 'header frontier is not a list of SHA-256 hashes (hex)');
  try {
    return MerkleAccumulator.fromPeaks(
      size,
      header.frontier.map((peak) => Buffer.from(peak, 'hex')),
    );
  } catch (error) {
    throw new SegmentFailure(header.firstSeq, `header frontier: ${(error as Error).message}`);
  }
}

/**
 * Checks the pruned prefix against retention's record of it: the recorded checkpoint (signed by
 * the log key when there is one) must be of the tree the frontier describes. Throws when it is
 * not; returns the line verify prints: an info line when retention recorded the deletion, a
 * warning when nothing did (deleted by hand, or by something else).
 */
export function checkPrunedPrefix(
  header: SegmentHeader,
  prefix: string,
  tree: MerkleAccumulator,
  vkey: Vkey | undefined,
  evidence: readonly PruneEvidence[],
): { level: 'note' | 'warning'; message: string } {
  const last = header.index - 1;
  const gone = `pruned before seq ${header.firstSeq}: segment${last > 0 ? `s 0–${last}` : ' 0'} of this log are gone; records before seq ${header.firstSeq} can no longer be read or proved, the retained ones verify from the header's frontier`;
  const record = evidence.find((e) => e.log === prefix && e.throughSeq === header.firstSeq - 1 && typeof e.checkpoint === 'string');
  if (!record?.checkpoint)
    return {
      level: 'warning',
      message: `${gone}; ${PRUNED_FILE} has no record of deleting them (deleted by hand, or not by journal.retention)`,
    };
  const mismatch = (why: string): SegmentFailure =>
    new SegmentFailure(
      header.firstSeq,
      `header frontier does not match the checkpoint ${PRUNED_FILE} recorded when journal.retention deleted the segments before (${why}): frontier forged or segments replaced`,
    );
  let text = record.checkpoint;
  try {
    if (vkey) {
      const note = parseNote(record.checkpoint);
      if (checkNoteSignature(note, vkey) !== 'valid') throw mismatch('not signed by the log key');
      text = note.text;
    }
    const body = parseCheckpointText(text);
    if (body.origin !== header.log || body.size !== tree.size) throw mismatch(`a checkpoint of ${body.origin} at size ${body.size}`);
    if (!body.root.equals(tree.root())) throw mismatch('another root');
  } catch (error) {
    if (error instanceof NoteError) throw mismatch(error.message);
    throw error;
  }
  return {
    level: 'note',
    message: `${gone}; deleted by journal.retention at ${record.time} (${PRUNED_FILE}), and the frontier matches the checkpoint recorded then`,
  };
}
