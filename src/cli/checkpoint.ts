/** `provenant checkpoint [--state DIR]`: the latest checkpoint of every log, as C2SP signed notes. */
import { latestCheckpoint, listLogs } from '../journal/logs.js';
import { STATE_HELP } from './journal-args.js';
import { journalListing } from './journal-listing.js';

const USAGE = `Usage: provenant checkpoint [--state DIR]

Prints the latest checkpoint of every log, byte for byte the C2SP signed note (tlog-checkpoint)
the log wrote, with witness cosignatures when the witness client kept them; notes are separated
by a blank line. An unsigned log's checkpoint is its note text alone. Exit 1 when there is none.
${STATE_HELP}`;

export const checkpoint = journalListing(
  'print the latest checkpoint of every log as a C2SP signed note',
  USAGE,
  (dirs) => listLogs(dirs).flatMap((log) => latestCheckpoint(log) ?? []),
  'no checkpoints in this journal',
  '\n',
);
