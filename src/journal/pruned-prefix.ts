/**
 * A log whose first segments retention deleted: its first retained segment's header carries the
 * tree's compact range (frontier) at `firstSeq - 1`, and the verifier continues the tree from it.
 * The frontier is not signed by itself: a forged one gives roots that no signed checkpoint of
 * the retained records matches, so the first checkpoint after it fails.
 */
import type { SegmentHeader } from './format.js';
import { MerkleAccumulator } from './merkle.js';
import { SegmentFailure } from './verify-report.js';

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

/** The info line verify prints for a log whose first segments were deleted. */
export function prunedMessage(header: SegmentHeader): string {
  const last = header.index - 1;
  return `pruned before seq ${header.firstSeq}: segment${last > 0 ? `s 0–${last}` : ' 0'} of this log were deleted (journal.retention); records before seq ${header.firstSeq} can no longer be read or proved, and the retained ones verify from the header's frontier`;
}
