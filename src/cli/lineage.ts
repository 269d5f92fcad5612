/** `provenant lineage <path|uri> [--upstream|--downstream] [--json|--dot|--mermaid]` */
import { parseArgs } from 'node:util';
import { buildLineage } from '../journal/lineage.js';
import { resourceMatcher } from '../journal/resource-match.js';
import type { CliCommand } from './command.js';
import { commonOptions, STATE_HELP, stateDirs, UsageError, withUsage, writeJson } from './journal-args.js';
import { toDot, toMermaid, toText } from './lineage-format.js';

const USAGE = `Usage: provenant lineage <path|uri> [--upstream|--downstream] [--json|--dot|--mermaid]

Where data of a resource came from (--upstream, the default) or where it went (--downstream),
across every segment and service of the journal(s). A path matches that file on any node
unless --node is given.
${STATE_HELP}
  --node NODE     node id a path argument belongs to`;

export const lineage: CliCommand = {
  summary: 'where data came from (--upstream) or went (--downstream)',
  run: (args) =>
    withUsage(USAGE, () => {
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: {
          ...commonOptions,
          upstream: { type: 'boolean', default: false },
          downstream: { type: 'boolean', default: false },
          dot: { type: 'boolean', default: false },
          mermaid: { type: 'boolean', default: false },
          node: { type: 'string' },
        },
      });
      if (values.help) {
        process.stdout.write(USAGE + '\n');
        return 0;
      }
      if (positionals.length !== 1) throw new UsageError('lineage takes exactly one path or URI');
      if (values.upstream && values.downstream) throw new UsageError('choose one of --upstream and --downstream');
      if ([values.json, values.dot, values.mermaid].filter(Boolean).length > 1)
        throw new UsageError('choose one of --json, --dot and --mermaid');
      const graph = buildLineage(
        stateDirs(values.state),
        resourceMatcher(positionals[0], values.node),
        values.downstream ? 'downstream' : 'upstream',
      );
      if (values.json) writeJson(graph);
      else process.stdout.write((values.dot ? toDot(graph) : values.mermaid ? toMermaid(graph) : toText(graph)) + '\n');
      return 0;
    }),
};
