/**
 * Checkpoints of one log held outside it (the caller's witness files and the witness client's
 * cosigned copy next to the segments). Each counts only when the log key signed it; two of one
 * size must agree (else a split view); the records must reach and match every one of them; and
 * with witnesses configured, the largest with a quorum of cosignatures is what is witnessed.
 */
import { readFileSync } from 'node:fs';
import { parseCheckpointText } from './checkpoint.js';
import type { MerkleAccumulator } from './merkle.js';
import { checkCosignature, checkNoteSignature, parseNote, type Vkey } from './note.js';
import { SegmentFailure, type HeldCheckpoint, type Problem } from './verify-report.js';

/** Cosigned checkpoints the witness client keeps next to a log's segments: `<log prefix>.cosigned`. */
export function cosignedPath(segmentPath: string): string {
  return segmentPath.replace(/-\d+\.jsonl$/, '.cosigned');
}

/** The witness client's latest cosigned checkpoint of a log, if it kept one. */
export function readCosigned(segmentPath: string): HeldCheckpoint[] {
  const source = cosignedPath(segmentPath);
  let text: string;
  try {
    text = readFileSync(source, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  try {
    const note = parseNote(text);
    return [{ source, note, body: parseCheckpointText(note.text) }];
  } catch (error) {
    throw new SegmentFailure(null, `${source}: ${(error as Error).message}`);
  }
}

export class HeldCheckpoints {
  /** Roots by size, checked as the tree reaches each size. */
  private readonly roots = new Map<number, { root: Buffer; source: string }>();
  private largest = 0;

  constructor(
    origin: string,
    private readonly checkpoints: readonly HeldCheckpoint[],
    vkey: Vkey | undefined,
  ) {
    for (const h of checkpoints) {
      if (vkey && checkNoteSignature(h.note, vkey) !== 'valid')
        throw new SegmentFailure(null, `${h.source}: checkpoint of size ${h.body.size} is not signed by the log key`);
      const other = this.roots.get(h.body.size);
      if (other && !other.root.equals(h.body.root))
        throw new SegmentFailure(
          h.body.size + 1,
          `split view: ${other.source} and ${h.source} hold two different checkpoints of size ${h.body.size}, both signed by the log key`,
        );
      this.roots.set(h.body.size, { root: h.body.root, source: h.source });
      this.largest = Math.max(this.largest, h.body.size);
      if (h.body.origin !== origin) throw new SegmentFailure(null, `${h.source} is a checkpoint of another log (${h.body.origin})`);
    }
  }

  get empty(): boolean {
    return this.roots.size === 0;
  }

  /** Throws when a held checkpoint of the tree's size has another root; `covered` names the first record in doubt. */
  check(tree: MerkleAccumulator, covered: number): void {
    const held = this.roots.get(tree.size);
    if (held && !held.root.equals(tree.root()))
      throw new SegmentFailure(
        covered + 1,
        `records do not match ${held.source}, a checkpoint of size ${tree.size} signed by the log key (records rewritten, or a split view)`,
      );
  }

  /** A problem when someone holds a checkpoint of more records than the log still has. */
  truncation(file: string, size: number): Problem | undefined {
    if (this.largest <= size) return undefined;
    return {
      file,
      seq: size + 1,
      message: `truncated: ${this.roots.get(this.largest)?.source ?? 'a witness'} holds a checkpoint of ${this.largest} records, ${size} remain`,
    };
  }

  /**
   * The largest held checkpoint within `size` records with a quorum of valid cosignatures. One
   * below `from` (records retention deleted) was never matched against records, so it does not count.
   */
  witnessed(
    witnesses: { keys: readonly Vkey[]; quorum: number },
    size: number,
    file: string,
    report: { failures: Problem[]; warnings: Problem[] },
    from = 0,
  ): number | null {
    const { keys, quorum } = witnesses;
    let best: number | null = null;
    for (const { source, note, body } of this.checkpoints) {
      let valid = 0;
      for (const key of keys) {
        const result = checkCosignature(note, key);
        if (result.status === 'invalid')
          report.failures.push({ file, seq: null, message: `${source}: cosignature of ${key.name} does not verify` });
        if (result.status === 'valid') valid++;
      }
      if (valid >= quorum && body.size <= size && body.size >= from) best = Math.max(best ?? 0, body.size);
    }
    if (best === null)
      report.failures.push({
        file,
        seq: null,
        message: `no checkpoint of this log is cosigned by ${quorum} of the ${keys.length} witness key(s)`,
      });
    else if (best < size)
      report.warnings.push({
        file,
        seq: best + 1,
        message: `${size - best} record(s) after the last witnessed checkpoint (size ${best})`,
      });
    return best;
  }
}
