/** `provenant verify-proof [FILE] --key VKEY [--witness-key VKEY... --quorum N]` */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadPublicKey, logVkey } from '../journal/keys.js';
import { NoteError, parseVkey, SIG_COSIGNATURE, SIG_ED25519, type Vkey } from '../journal/note.js';
import { parseProof, verifyProof } from '../journal/tlog-proof.js';
import type { CliCommand } from './command.js';
import { parsePositiveInt, UsageError, withUsage } from './journal-args.js';

const USAGE = `Usage: provenant verify-proof [FILE] --key K [--witness-key VKEY... --quorum N]

Verifies a C2SP tlog-proof written by \`provenant prove\` (FILE, or stdin), offline: the record's
leaf hash, the log's signature on the checkpoint, witness cosignatures, and the inclusion proof.
Prints the record and exits 0 when all hold; 1 otherwise, saying which step failed.
  --key K          the log key: its vkey (as \`provenant keys\` prints), or an Ed25519 public key
                   (PEM text or file) with the key name taken from the checkpoint origin
  --witness-key V  a witness cosignature vkey (repeatable)
  --quorum N       cosignatures required (default: every --witness-key)`;

export const verifyProofCommand: CliCommand = {
  summary: 'verify a tlog-proof from `prove` offline (log signature, cosignatures, inclusion)',
  run: (args) =>
    withUsage(USAGE, () => {
      const { values, positionals } = parseArgs({
        args,
        options: {
          key: { type: 'string' },
          'witness-key': { type: 'string', multiple: true },
          quorum: { type: 'string' },
          help: { type: 'boolean', short: 'h', default: false },
        },
        allowPositionals: true,
      });
      if (values.help) {
        process.stdout.write(USAGE + '\n');
        return 0;
      }
      if (!values.key) throw new UsageError('--key is required: a proof means nothing without the log key');
      if (positionals.length > 1) throw new UsageError('at most one proof file');
      const text = readFileSync(positionals[0] ?? 0, 'utf8');
      const witnessKeys = (values['witness-key'] ?? []).map((k) => parseVkey(k));
      if (witnessKeys.some((k) => k.type !== SIG_COSIGNATURE)) throw new UsageError('--witness-key must be cosignature (type 0x04) vkeys');
      const quorum = values.quorum === undefined ? witnessKeys.length : parsePositiveInt(values.quorum, 'quorum', 1);
      try {
        const proof = parseProof(text);
        const logKey = keyFor(values.key, proof.note);
        const check = verifyProof(proof, logKey, witnessKeys, quorum);
        process.stdout.write(
          `${proof.record.toString('utf8')}\nOK: record at index ${proof.index} is in ${check.checkpoint.origin} at tree size ${check.checkpoint.size}, signed by ${logKey.name}` +
            `${witnessKeys.length > 0 ? `, cosigned by ${check.cosigners.length} of ${witnessKeys.length} witness(es)` : ''}\n`,
        );
        return 0;
      } catch (error) {
        if (!(error instanceof NoteError)) throw error;
        process.stderr.write(`FAILED: ${error.message}\n`);
        return 1;
      }
    }),
};

/** A vkey as given, or a bare public key named after the checkpoint's origin (provenant/<node>/<service>). */
function keyFor(text: string, note: string): Vkey {
  if (/^\S+\+[0-9a-f]{8}\+\S+$/.test(text.trim())) {
    const vkey = parseVkey(text);
    if (vkey.type !== SIG_ED25519) throw new UsageError('--key must be an Ed25519 (type 0x01) log vkey');
    return vkey;
  }
  const origin = note.slice(0, note.indexOf('\n'));
  const parts = origin.split('/');
  if (parts.length < 4 || parts[0] !== 'provenant') throw new NoteError(`origin ${origin} is not a provenant log; pass the log's vkey`);
  return logVkey(parts[1], parts[2], loadPublicKey(text));
}
