/** `provenant stats [--since T] [--until T] [--json]` */
import { parseArgs } from 'node:util';
import { journalStats } from '../journal/query.js';
import type { CliCommand } from './command.js';
import { commonOptions, parsePositiveInt, STATE_HELP, stateDirs, timeWindow, windowOptions, withUsage, writeJson } from './journal-args.js';

const USAGE = `Usage: provenant stats [--since T] [--until T] [--top N] [--json]

Most used resources, flows by label and denials by rule.
${STATE_HELP}
  --since T       ISO time or a duration back from now (10m, 2h, 1d)
  --until T       same forms
  --top N         resources listed (default 10)
  --json          machine-readable output`;

export const stats: CliCommand = {
  summary: 'most used resources, flows by label, denials by rule',
  run: (args) =>
    withUsage(USAGE, () => {
      const { values } = parseArgs({
        args,
        options: { ...commonOptions, ...windowOptions, top: { type: 'string' } },
      });
      if (values.help) {
        process.stdout.write(USAGE + '\n');
        return 0;
      }
      const result = journalStats(stateDirs(values.state), timeWindow(values), parsePositiveInt(values.top, 'top', 10));
      if (values.json) {
        writeJson(result);
        return 0;
      }
      const counts = (o: Record<string, number>): string =>
        Object.entries(o)
          .map(([k, n]) => `${k}=${n}`)
          .join(' ') || '-';
      const lines = [
        `${result.records} record(s)   ops: ${counts(result.byOp)}   decisions: ${counts(result.byDecision)}`,
        '',
        'most used resources:',
        ...result.topResources.map((r) => `  ${String(r.records).padStart(8)}  ${r.resource}`),
        '',
        'flows by label:',
        ...result.flowsByLabel.map((l) => `  ${String(l.records).padStart(8)}  ${l.labels}`),
        '',
        'denials by rule:',
        ...(result.denialsByRule.length === 0
          ? ['  (none)']
          : result.denialsByRule.map((d) => `  ${d.rule}: ${d.deny} denied, ${d.violation} violation(s)`)),
      ];
      process.stdout.write(lines.join('\n') + '\n');
      return 0;
    }),
};
