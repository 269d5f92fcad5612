/**
 * C2SP tlog-proof bundles: `c2sp.org/tlog-proof@v1`, an `extra` line (here the record's exact
 * bytes, base64, from which the leaf hash is recomputed), `index <n>`, the inclusion proof one
 * base64 hash per line, a blank line, then the checkpoint note with any cosignatures.
 */
import { parseCheckpointText, type CheckpointBody } from './checkpoint.js';
import { leafHash, verifyInclusion, type Hash } from './merkle.js';
import { checkCosignature, checkNoteSignature, NoteError, parseNote, strictBase64, type Note, type Vkey } from './note.js';

const HEADER = 'c2sp.org/tlog-proof@v1';

export interface TlogProof {
  record: Buffer;
  index: number;
  proof: Hash[];
  note: string;
}

export function formatProof(proof: TlogProof): string {
  return (
    [HEADER, `extra ${proof.record.toString('base64')}`, `index ${proof.index}`, ...proof.proof.map((h) => h.toString('base64'))].join(
      '\n',
    ) +
    '\n\n' +
    proof.note
  );
}

export function parseProof(text: string): TlogProof {
  const blank = text.indexOf('\n\n');
  if (blank < 0) throw new NoteError('no blank line before the checkpoint');
  const lines = text.slice(0, blank).split('\n');
  if (lines[0] !== HEADER) throw new NoteError(`first line is not ${HEADER}`);
  const extra = /^extra (\S+)$/.exec(lines[1] ?? '');
  const record = extra ? strictBase64(extra[1]) : undefined;
  if (!record) throw new NoteError('no "extra" line with the record (base64)');
  const index = /^index (0|[1-9][0-9]*)$/.exec(lines[2] ?? '');
  if (!index || !Number.isSafeInteger(Number(index[1]))) throw new NoteError('no "index <n>" line');
  const proof = lines.slice(3).map((line) => {
    const hash = strictBase64(line);
    if (!hash || hash.length !== 32) throw new NoteError('an inclusion proof line is not a base64 SHA-256 hash');
    return hash;
  });
  return { record, index: Number(index[1]), proof, note: text.slice(blank + 2) };
}

export interface ProofCheck {
  checkpoint: CheckpointBody;
  note: Note;
  /** Names of the witness keys whose cosignatures verified. */
  cosigners: string[];
}

/** tlog-proof verification steps 1–4: leaf hash, log signature, cosignatures, inclusion. Throws NoteError on any failure. */
export function verifyProof(proof: TlogProof, logKey: Vkey, witnessKeys: readonly Vkey[], quorum: number): ProofCheck {
  const leaf = leafHash(proof.record);
  const note = parseNote(proof.note);
  const checkpoint = parseCheckpointText(note.text);
  if (checkpoint.origin !== logKey.name && !checkpoint.origin.startsWith(logKey.name + '/'))
    throw new NoteError(`checkpoint origin ${checkpoint.origin} is not a log of key ${logKey.name}`);
  const signature = checkNoteSignature(note, logKey);
  if (signature !== 'valid')
    throw new NoteError(signature === 'absent' ? `checkpoint is not signed by ${logKey.name}` : 'log signature does not verify');
  const cosigners: string[] = [];
  for (const key of witnessKeys) {
    const result = checkCosignature(note, key);
    if (result.status === 'invalid') throw new NoteError(`cosignature of ${key.name} does not verify`);
    if (result.status === 'valid') cosigners.push(key.name);
  }
  if (cosigners.length < quorum) throw new NoteError(`cosigned by ${cosigners.length} of the witness keys, ${quorum} required`);
  if (!verifyInclusion(proof.index, checkpoint.size, leaf, proof.proof, checkpoint.root))
    throw new NoteError(`record is not at index ${proof.index} of the checkpointed tree (inclusion proof does not verify)`);
  return { checkpoint, note, cosigners };
}
