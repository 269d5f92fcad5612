/**
 * What the witness worker keeps on disk beside a log's segments: `<log>.pending`, the newest
 * checkpoint not yet cosigned by every witness (so a later process can submit it), and
 * `<log>.cosigned`, the newest checkpoint with every cosignature collected for it (read by
 * `verify`). Both are replaced atomically.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive } from '../support/process-alive.js';
import { writeFileAtomically } from '../support/atomic-file.js';
import { cosignedPath } from './held-checkpoints.js';
import { formatNote, parseNote, type NoteSignature, type Vkey } from './note.js';

/** A checkpoint as posted to the worker (buffers as base64: structured clone keeps them, but plainly). */
export interface WireCheckpoint {
  origin: string;
  size: number;
  note: string;
  peaks: string[];
  segments: string[];
}

function pendingPath(checkpoint: WireCheckpoint): string | undefined {
  return checkpoint.segments.length > 0 ? checkpoint.segments[0].replace(/-\d+\.jsonl$/, '.pending') : undefined;
}

/** Throws when the file cannot be written. */
export function writePending(checkpoint: WireCheckpoint): void {
  const path = pendingPath(checkpoint);
  if (path) writeFileAtomically(path, checkpoint.note);
}

export function removePending(checkpoint: WireCheckpoint): void {
  const path = pendingPath(checkpoint);
  if (path) rmSync(path, { force: true });
}

/**
 * Pending checkpoints of processes that no longer run (their last chance to be witnessed is this
 * worker), without peaks: those are read back from the segments when needed.
 */
export function orphanedPending(dir: string, onProblem: (message: string) => void): WireCheckpoint[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const orphans: WireCheckpoint[] = [];
  for (const name of names.filter((n) => n.endsWith('.pending'))) {
    const prefix = name.slice(0, -'.pending'.length);
    const pid = Number(/-(\d+)-\d+-[0-9a-f]+$/.exec(prefix)?.[1]);
    if (!Number.isSafeInteger(pid) || processAlive(pid)) continue;
    try {
      const note = readFileSync(join(dir, name), 'utf8');
      const lines = note.split('\n');
      const segments = names
        .filter((n) => n.startsWith(prefix + '-') && n.endsWith('.jsonl'))
        .sort()
        .map((n) => join(dir, n));
      orphans.push({ origin: lines[0], size: Number(lines[1]), note, peaks: [], segments });
    } catch (error) {
      onProblem(`cannot adopt pending checkpoint ${name}: ${(error as Error).message}`);
    }
  }
  return orphans;
}

/**
 * Writes the checkpoint with the cosignatures collected for it, plus those an earlier process
 * kept in the file for the same checkpoint text from witnesses still configured (an adopted log).
 * Returns the path; throws when it cannot be written.
 */
export function writeCosigned(
  target: WireCheckpoint,
  collected: ReadonlyMap<string, NoteSignature>,
  witnesses: readonly { vkey: Vkey }[],
): string {
  const path = cosignedPath(target.segments[0]);
  const note = parseNote(target.note);
  const signatures = [...note.signatures, ...keptCosignatures(path, note.text, collected, witnesses), ...collected.values()];
  writeFileAtomically(path, formatNote({ text: note.text, signatures }));
  return path;
}

function keptCosignatures(
  path: string,
  text: string,
  collected: ReadonlyMap<string, NoteSignature>,
  witnesses: readonly { vkey: Vkey }[],
): NoteSignature[] {
  try {
    const kept = parseNote(readFileSync(path, 'utf8'));
    if (kept.text !== text) return [];
    return kept.signatures.filter(
      (s) => !collected.has(s.name) && witnesses.some((w) => w.vkey.name === s.name && w.vkey.keyId.equals(s.keyId)),
    );
  } catch {
    return [];
  }
}
