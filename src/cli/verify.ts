/** `provenant verify [--key PEM|FILE] [--witness FILE] [--json]` */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Checkpoint } from '../journal/format.js';
import { loadPublicKey } from '../journal/keys.js';
import { verifyJournal, type Problem } from '../journal/verify.js';
import type { CliCommand } from './command.js';
import { commonOptions, STATE_HELP, stateDirs, UsageError, withUsage, writeJson } from './journal-args.js';

const USAGE = `Usage: provenant verify [--key PEM|FILE] [--witness FILE] [--json]

Checks every journal segment: record hashes, sequence numbers, checkpoint roots and signatures,
and the chain between a process's segments. Exit 0 when all verify, 1 otherwise (naming the
segment file and first bad sequence number). Unclosed segments (a running or crashed process)
are warnings.
${STATE_HELP}
  --key K         expected Ed25519 public key (PEM text or file; default $PROVENANT_JOURNAL_PUBKEY):
                  every segment must be signed by it
  --witness FILE  checkpoints held elsewhere (JSON lines, e.g. from spans): segments must still
                  contain what they cover (detects a truncated or deleted newest segment)
  --json          machine-readable report`;

export const verify: CliCommand = {
  summary: 'check journal integrity (hashes, Merkle roots, signatures); exit 1 on tampering',
  run: (args) =>
    withUsage(USAGE, () => {
      const { values } = parseArgs({
        args,
        options: { ...commonOptions, key: { type: 'string' }, witness: { type: 'string', multiple: true } },
      });
      if (values.help) {
        process.stdout.write(USAGE + '\n');
        return 0;
      }
      const keyText = values.key ?? process.env['PROVENANT_JOURNAL_PUBKEY'];
      const report = verifyJournal(stateDirs(values.state), {
        publicKey: keyText ? loadKeyArgument(keyText) : undefined,
        witnesses: (values.witness ?? []).flatMap(readWitnesses),
      });
      if (values.json) {
        writeJson(report);
        return report.ok ? 0 : 1;
      }
      const out = (p: Problem): string => `${p.file}${p.seq === null ? '' : ` seq ${p.seq}`}: ${p.message}`;
      const lines = [
        ...report.failures.map((p) => `FAIL ${out(p)}`),
        ...report.warnings.map((p) => `warn ${out(p)}`),
        `${report.ok ? 'OK' : 'FAILED'}: ${report.segments.length} segment(s), ${report.records} record(s), ${report.failures.length} failure(s), ${report.warnings.length} warning(s)`,
      ];
      (report.ok ? process.stdout : process.stderr).write(lines.join('\n') + '\n');
      return report.ok ? 0 : 1;
    }),
};

export function loadKeyArgument(text: string): string {
  try {
    return loadPublicKey(text);
  } catch (error) {
    throw new UsageError(`cannot use --key: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export function readWitnesses(file: string): Checkpoint[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as Checkpoint)
    .filter((c) => c.type === 'checkpoint');
}
