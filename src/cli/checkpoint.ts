/** `provenant checkpoint [--state DIR]`: the latest checkpoint of every log, as C2SP signed notes. */
import { parseArgs } from 'node:util';
import { latestCheckpoint, listLogs } from '../journal/logs.js';
import type { CliCommand } from './command.js';
import { commonOptions, STATE_HELP, stateDirs, withUsage } from './journal-args.js';

const USAGE = `Usage: provenant checkpoint [--state DIR]

Prints the latest checkpoint of every log, byte for byte the C2SP signed note (tlog-checkpoint)
the log wrote, with witness cosignatures when the witness client kept them; notes are separated
by a blank line. An unsigned log's checkpoint is its note text alone. Exit 1 when there is none.
${STATE_HELP}`;

export const checkpoint: CliCommand = {
  summary: 'print the latest checkpoint of every log as a C2SP signed note',
  run: (args) =>
    withUsage(USAGE, () => {
      const { values } = parseArgs({ args, options: commonOptions });
      if (values.help) {
        process.stdout.write(USAGE + '\n');
        return 0;
      }
      const notes = listLogs(stateDirs(values.state)).flatMap((log) => latestCheckpoint(log) ?? []);
      if (notes.length === 0) {
        process.stderr.write('provenant: no checkpoints in this journal\n');
        return 1;
      }
      process.stdout.write(notes.join('\n'));
      return 0;
    }),
};
