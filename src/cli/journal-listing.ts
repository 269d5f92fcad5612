/** A command that prints one text item per journal log (`keys`, `checkpoint`), exit 1 when there is none. */
import { parseArgs } from 'node:util';
import type { CliCommand } from './command.js';
import { commonOptions, stateDirs, withUsage } from './journal-args.js';

export function journalListing(
  summary: string,
  usage: string,
  items: (dirs: string[]) => string[],
  none: string,
  separator: string,
): CliCommand {
  return {
    summary,
    run: (args) =>
      withUsage(usage, () => {
        const { values } = parseArgs({ args, options: commonOptions });
        if (values.help) {
          process.stdout.write(usage + '\n');
          return 0;
        }
        const found = items(stateDirs(values.state));
        if (found.length === 0) {
          process.stderr.write(`provenant: ${none}\n`);
          return 1;
        }
        process.stdout.write(found.join(separator));
        return 0;
      }),
  };
}
