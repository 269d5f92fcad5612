/** `provenant keys [--state DIR]`: the C2SP verifier keys of the journal's logs, one per line. */
import { parseArgs } from 'node:util';
import { listLogs } from '../journal/logs.js';
import type { CliCommand } from './command.js';
import { commonOptions, STATE_HELP, stateDirs, withUsage } from './journal-args.js';

const USAGE = `Usage: provenant keys [--state DIR]

Prints the verifier key (C2SP vkey: name+keyid+base64) of every signed log in the journal, one
per line, each once. Pin them in an auditor's tools, or pass one to verify --key. Exit 1 when no
log is signed.
${STATE_HELP}`;

export const keys: CliCommand = {
  summary: 'print the journal keys as C2SP verifier keys (vkeys)',
  run: (args) =>
    withUsage(USAGE, () => {
      const { values } = parseArgs({ args, options: commonOptions });
      if (values.help) {
        process.stdout.write(USAGE + '\n');
        return 0;
      }
      const vkeys = new Set(listLogs(stateDirs(values.state)).flatMap((log) => (log.header.vkey ? [log.header.vkey] : [])));
      if (vkeys.size === 0) {
        process.stderr.write('provenant: no signed logs (is PROVENANT_JOURNAL_KEY set for the services?)\n');
        return 1;
      }
      process.stdout.write([...vkeys].map((k) => k + '\n').join(''));
      return 0;
    }),
};
