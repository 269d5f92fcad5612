/** `provenant query [--user U] [--resource R] [--decision D] [--since T] [--until T] [--limit N] [--page K] [--json]` */
import { parseArgs } from 'node:util';
import { pseudonymize } from '../journal/digest.js';
import { queryRecords } from '../journal/query.js';
import { resourceMatcher } from '../journal/resource-match.js';
import type { CliCommand } from './command.js';
import {
  commonOptions,
  parsePositiveInt,
  STATE_HELP,
  stateDirs,
  timeWindow,
  UsageError,
  windowOptions,
  withUsage,
  writeJson,
} from './journal-args.js';
import { formatLabels } from './lineage-format.js';

const USAGE = `Usage: provenant query [options]

Journal records, newest first, paged.
${STATE_HELP}
  --user U        end user (also matches its HMAC pseudonym when PROVENANT_KEY is set)
  --resource R    path or URI, as the resource or one of the sources
  --decision D    allow | deny | violation
  --since T       ISO time or a duration back from now (10m, 2h, 1d)
  --until T       same forms
  --limit N       records per page (default 50)
  --page K        page, from 1 (default 1)
  --json          machine-readable output`;

const DECISIONS = ['allow', 'deny', 'violation'];

export const query: CliCommand = {
  summary: 'journal records by user, resource, decision and time, newest first',
  run: (args) =>
    withUsage(USAGE, () => {
      const { values } = parseArgs({
        args,
        options: {
          ...commonOptions,
          user: { type: 'string' },
          resource: { type: 'string' },
          decision: { type: 'string' },
          ...windowOptions,
          limit: { type: 'string' },
          page: { type: 'string' },
        },
      });
      if (values.help) {
        process.stdout.write(USAGE + '\n');
        return 0;
      }
      if (values.decision !== undefined && !DECISIONS.includes(values.decision))
        throw new UsageError(`--decision must be one of ${DECISIONS.join(', ')}`);
      const key = process.env['PROVENANT_KEY'];
      const users = values.user === undefined ? undefined : key ? [values.user, pseudonymize(values.user, key)] : [values.user];
      const limit = parsePositiveInt(values.limit, 'limit', 50);
      const page = parsePositiveInt(values.page, 'page', 1);
      const result = queryRecords(
        stateDirs(values.state),
        {
          users,
          resource: values.resource === undefined ? undefined : resourceMatcher(values.resource),
          decision: values.decision,
          ...timeWindow(values),
        },
        limit,
        page,
      );
      if (values.json) {
        writeJson(result);
        return 0;
      }
      const pages = Math.max(1, Math.ceil(result.total / limit));
      const lines = [`${result.total} record(s), page ${page} of ${pages}`];
      for (const r of result.records) {
        const decision = r.decision ? ` ${r.decision}${r.rule ? `(${r.rule})` : ''}` : '';
        const who = r.user ? ` user=${r.user}` : '';
        const what = r.action ? ` action=${r.action}` : '';
        lines.push(`${r.time} ${r.service}[${r.pid}] #${r.seq} ${r.op}${decision} ${r.resource} [${formatLabels(r.labels)}]${who}${what}`);
        if (r.sources.length > 0) lines.push(`    from ${r.sources.join(', ')}`);
      }
      process.stdout.write(lines.join('\n') + '\n');
      return 0;
    }),
};
