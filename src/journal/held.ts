/**
 * Reading checkpoints held outside the journal, for `verify --witness FILE`: C2SP checkpoint notes
 * one after another (as `provenant checkpoint` prints them and witnesses serve them), or JSON lines
 * of exported span attributes carrying `provenant.checkpoint.note`. Anything else is an error
 * naming the file and line: a witness file that cannot be read proves nothing, silently.
 */
import { parseCheckpointText } from './checkpoint.js';
import { NoteError, parseNote } from './note.js';
import type { HeldCheckpoint } from './verify-report.js';

export const NOTE_ATTRIBUTE = 'provenant.checkpoint.note';

export function parseHeldCheckpoints(text: string, file: string): HeldCheckpoint[] {
  const lines = text.split('\n');
  if (text.trimStart().startsWith('{')) return lines.flatMap((line, i) => (line.trim() ? [fromJsonLine(line, `${file}:${i + 1}`)] : []));
  const held: HeldCheckpoint[] = [];
  let i = 0;
  while (i < lines.length) {
    if (lines[i] === '') {
      i++;
      continue;
    }
    const start = i;
    while (i < lines.length && lines[i] !== '') i++;
    i++;
    while (i < lines.length && lines[i].startsWith('\u2014 ')) i++;
    held.push(fromNote(lines.slice(start, i).join('\n') + '\n', `${file}:${start + 1}`));
  }
  if (held.length === 0) throw new NoteError(`${file}: no checkpoints in it`);
  return held;
}

function fromJsonLine(line: string, source: string): HeldCheckpoint {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new NoteError(`${source}: not valid JSON`);
  }
  const note = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[NOTE_ATTRIBUTE] : undefined;
  if (typeof note !== 'string') throw new NoteError(`${source}: not a checkpoint (no "${NOTE_ATTRIBUTE}" string)`);
  return fromNote(note, source);
}

function fromNote(text: string, source: string): HeldCheckpoint {
  try {
    const note = parseNote(text);
    return { source, note, body: parseCheckpointText(note.text) };
  } catch (error) {
    throw new NoteError(`${source}: ${(error as Error).message}`);
  }
}
