/** `provenant verify [--key K] [--witness FILE] [--witness-key VKEY --quorum N | --config FILE] [--json]` */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { parseHeldCheckpoints } from '../journal/held.js';
import { loadPublicKey } from '../journal/keys.js';
import { parseVkey, SIG_COSIGNATURE, type Vkey } from '../journal/note.js';
import { verifyJournal, type HeldCheckpoint, type Problem, type VerifyOptions } from '../journal/verify.js';
import type { CliCommand } from './command.js';
import { commonOptions, parsePositiveInt, STATE_HELP, stateDirs, UsageError, withUsage, writeJson } from './journal-args.js';

const USAGE = `Usage: provenant verify [--key K] [--witness FILE] [--witness-key VKEY... --quorum N] [--config FILE] [--json]

Checks every journal log: record hashes, sequence numbers, that every checkpoint (a C2SP signed note)
covers exactly the records before it, and that a log's segments are all there. Exit 0 when all
verify, 1 otherwise (naming the segment file and first bad sequence number). A missing state dir or
one with no journal is a failure. Without --key, verify proves internal consistency only; with it,
records no signed checkpoint covers are failures (see README "Trust model").
${STATE_HELP}
  --key K          the log key: Ed25519 public key (PEM text or file) or vkey
                   (default $PROVENANT_JOURNAL_PUBKEY): every log must be signed by it
  --witness FILE   checkpoints held elsewhere: C2SP notes, or JSON lines with
                   "provenant.checkpoint.note" (exported spans). Each must be signed by the log
                   key and match the records; a log a witness knows must exist and not be shorter
  --witness-key V  a witness's cosignature vkey (repeatable); each log needs a checkpoint
                   cosigned by --quorum of them (default: all)
  --config FILE    take witness keys and quorum from journal.witnesses / journal.witnessQuorum
  --json           machine-readable report`;

export const verify: CliCommand = {
  summary: 'check journal integrity (hashes, Merkle roots, signatures, witnesses); exit 1 on tampering',
  run: (args) =>
    withUsage(USAGE, () => {
      const { values } = parseArgs({
        args,
        options: {
          ...commonOptions,
          key: { type: 'string' },
          witness: { type: 'string', multiple: true },
          'witness-key': { type: 'string', multiple: true },
          quorum: { type: 'string' },
          config: { type: 'string' },
        },
      });
      if (values.help) {
        process.stdout.write(USAGE + '\n');
        return 0;
      }
      const keyText = values.key ?? process.env['PROVENANT_JOURNAL_PUBKEY'];
      const options: VerifyOptions = {
        publicKey: keyText ? loadKeyArgument(keyText) : undefined,
        held: (values.witness ?? []).flatMap(readHeldFile),
        witnesses: witnessPolicy(values['witness-key'], values.quorum, values.config),
      };
      const report = verifyJournal(stateDirs(values.state), options);
      if (values.json) {
        writeJson(report);
        return report.ok ? 0 : 1;
      }
      const out = (p: Problem): string => `${p.file}${p.seq === null ? '' : ` seq ${p.seq}`}: ${p.message}`;
      const lines = [
        ...report.failures.map((p) => `FAIL ${out(p)}`),
        ...report.warnings.map((p) => `warn ${out(p)}`),
        ...report.notes.map((p) => `info ${out(p)}`),
        `${report.ok ? 'OK' : 'FAILED'}: ${report.logs.length} log(s), ${report.segments.length} segment(s), ${report.records} record(s), ${report.failures.length} failure(s), ${report.warnings.length} warning(s)`,
      ];
      (report.ok ? process.stdout : process.stderr).write(lines.join('\n') + '\n');
      return report.ok ? 0 : 1;
    }),
};

function witnessPolicy(
  keyTexts: string[] | undefined,
  quorumText: string | undefined,
  configFile: string | undefined,
): VerifyOptions['witnesses'] {
  let keys: Vkey[] = (keyTexts ?? []).map((text) => argument('--witness-key', () => parseVkey(text)));
  let quorum = quorumText === undefined ? undefined : parsePositiveInt(quorumText, 'quorum', 1);
  if (configFile !== undefined && keys.length === 0) {
    const journal = argument('--config', () => loadConfig({ file: configFile, env: {} }).journal);
    keys = journal.witnesses.map((w) => parseVkey(w.vkey));
    quorum ??= journal.witnessQuorum;
  }
  if (keys.length === 0) {
    if (quorum !== undefined) throw new UsageError('--quorum needs --witness-key or --config with journal.witnesses');
    return undefined;
  }
  const notCosigner = keys.find((k) => k.type !== SIG_COSIGNATURE);
  if (notCosigner) throw new UsageError(`--witness-key ${notCosigner.name} is not a cosignature (type 0x04) key`);
  quorum ??= keys.length;
  if (quorum > keys.length) throw new UsageError(`--quorum ${quorum} is more than the ${keys.length} witness key(s)`);
  return { keys, quorum };
}

/** `--key`: a PEM (text or file) or a vkey; the raw Ed25519 public key. */
export function loadKeyArgument(text: string): Buffer {
  return argument('--key', () => loadPublicKey(text));
}

/** `--witness FILE`: the checkpoints held in it; anything unreadable is a usage error naming file and line. */
export function readHeldFile(file: string): HeldCheckpoint[] {
  return argument('--witness', () => parseHeldCheckpoints(readFileSync(file, 'utf8'), file));
}

function argument<T>(name: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw new UsageError(`cannot use ${name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
