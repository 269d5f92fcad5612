/** `provenant prove <log|segment> <seq> [--out FILE]`: a C2SP tlog-proof of one record. */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseCheckpointText } from '../journal/checkpoint.js';
import { findLog, latestCheckpoint, listLogs, readRecord } from '../journal/logs.js';
import { inclusionProof, inclusionProofFromPeaks } from '../journal/merkle.js';
import { parseNote } from '../journal/note.js';
import { readLeaves } from '../journal/read.js';
import { formatProof } from '../journal/tlog-proof.js';
import type { CliCommand } from './command.js';
import { commonOptions, parsePositiveInt, STATE_HELP, stateDirs, UsageError, withUsage } from './journal-args.js';

const USAGE = `Usage: provenant prove <log|segment> <seq> [--out FILE]

Writes a proof that record <seq> is in the log (C2SP tlog-proof: the record's bytes as "extra",
its index, the inclusion proof, and the log's latest checkpoint with any witness cosignatures).
It verifies offline with \`provenant verify-proof\` or any C2SP tlog-proof verifier that hashes
the extra data as the leaf. <log> is a log origin, a segment file name or its prefix.
${STATE_HELP}
  --out FILE      write the proof there (default: stdout)`;

export const prove: CliCommand = {
  summary: 'write a C2SP tlog-proof that a record is in the journal',
  run: (args) =>
    withUsage(USAGE, () => {
      const { values, positionals } = parseArgs({ args, options: { ...commonOptions, out: { type: 'string' } }, allowPositionals: true });
      if (values.help) {
        process.stdout.write(USAGE + '\n');
        return 0;
      }
      if (positionals.length !== 2) throw new UsageError('expected <log|segment> and <seq>');
      const seq = parsePositiveInt(positionals[1], 'seq', 1);
      const log = findLog(listLogs(stateDirs(values.state)), positionals[0]);
      if (!log) throw new UsageError(`no log or segment "${positionals[0]}" in the journal`);
      if (log.header.vkey === null) {
        process.stderr.write(`provenant: log ${log.header.log} is unsigned: there is no checkpoint signature to prove against\n`);
        return 1;
      }
      const note = latestCheckpoint(log);
      const size = note === undefined ? 0 : parseCheckpointText(parseNote(note).text).size;
      if (note === undefined || seq > size) {
        process.stderr.write(`provenant: no checkpoint of ${log.header.log} covers seq ${seq} yet (latest covers ${size})\n`);
        return 1;
      }
      // After retention deleted the log's first segments, the tree before them is the header's frontier.
      const pruned = log.header.index > 0 ? log.header.firstSeq - 1 : 0;
      if (seq <= pruned) {
        process.stderr.write(
          `provenant: seq ${seq} of ${log.header.log} was deleted by journal.retention (the log keeps seq ${pruned + 1} on): no inclusion proof is possible for it\n`,
        );
        return 1;
      }
      const paths = log.segments.map((s) => s.path);
      const record = readRecord(log, seq);
      const leaves = readLeaves(paths, pruned, size);
      if (!record || leaves.length !== size - pruned) {
        process.stderr.write(`provenant: log ${log.header.log} is damaged (run provenant verify)\n`);
        return 1;
      }
      const frontier = (log.header.frontier ?? []).map((peak) => Buffer.from(peak, 'hex'));
      const proof = pruned > 0 ? inclusionProofFromPeaks(seq - 1, pruned, frontier, leaves) : inclusionProof(seq - 1, leaves);
      const text = formatProof({ record, index: seq - 1, proof, note });
      if (values.out) writeFileSync(values.out, text);
      else process.stdout.write(text);
      return 0;
    }),
};
