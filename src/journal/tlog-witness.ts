/**
 * The C2SP tlog-witness `add-checkpoint` wire format, shared by the witness server and the
 * submitting client: request body `old <size>\n`, one base64 hash per consistency proof line, a
 * blank line, then the checkpoint note; a 409 body is the witness's size and a newline.
 */
import { NoteError, strictBase64 } from './note.js';
import type { Hash } from './merkle.js';

/** tlog-witness: a client must not send more than 63 proof lines. */
export const MAX_PROOF_LINES = 63;
export const SIZE_CONTENT_TYPE = 'text/x.tlog.size';

export interface AddCheckpoint {
  oldSize: number;
  proof: Hash[];
  note: string;
}

export function formatAddCheckpoint(request: AddCheckpoint): string {
  return `old ${request.oldSize}\n${request.proof.map((h) => h.toString('base64') + '\n').join('')}\n${request.note}`;
}

export function parseAddCheckpoint(body: string): AddCheckpoint {
  const blank = body.indexOf('\n\n');
  if (blank < 0) throw new NoteError('no blank line between the old size and proof and the checkpoint');
  const lines = body.slice(0, blank).split('\n');
  const old = /^old (0|[1-9][0-9]*)$/.exec(lines[0]);
  if (!old || !Number.isSafeInteger(Number(old[1]))) throw new NoteError('first line is not "old <size>"');
  const proof = lines.slice(1).map((line) => {
    const hash = strictBase64(line);
    if (!hash || hash.length !== 32) throw new NoteError('a consistency proof line is not a base64 SHA-256 hash');
    return hash;
  });
  if (proof.length > MAX_PROOF_LINES) throw new NoteError(`more than ${MAX_PROOF_LINES} consistency proof lines`);
  return { oldSize: Number(old[1]), proof, note: body.slice(blank + 2) };
}

export function parseSizeBody(body: string): number | undefined {
  const match = /^(0|[1-9][0-9]*)\n$/.exec(body);
  return match ? Number(match[1]) : undefined;
}
