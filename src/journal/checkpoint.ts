/**
 * C2SP tlog-checkpoint note text: origin line, tree size, base64 root hash. provenant writes no
 * extension lines, and reads none: a checkpoint with more lines is not one of ours.
 */
import { NoteError, strictBase64 } from './note.js';

export interface CheckpointBody {
  origin: string;
  size: number;
  root: Buffer;
}

export function checkpointText(body: CheckpointBody): string {
  return `${body.origin}\n${body.size}\n${body.root.toString('base64')}\n`;
}

export function parseCheckpointText(text: string): CheckpointBody {
  const lines = text.split('\n');
  if (lines.length !== 4 || lines[3] !== '') throw new NoteError('checkpoint text is not exactly origin, size and root lines');
  const [origin, sizeText, rootText] = lines;
  if (origin.length === 0) throw new NoteError('checkpoint has an empty origin');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText)))
    throw new NoteError(`checkpoint tree size "${sizeText.slice(0, 30)}" is not a decimal number`);
  const root = strictBase64(rootText);
  if (!root || root.length !== 32) throw new NoteError('checkpoint root is not a base64 SHA-256 hash');
  return { origin, size: Number(sizeText), root };
}
