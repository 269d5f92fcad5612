/** `provenant export --openlineage URL [--since T] [--until T] [--namespace NS]` */
import { parseArgs } from 'node:util';
import { openLineageEndpoint } from '../config/validate-openlineage.js';
import { inWindow } from '../journal/query.js';
import { forEachRecord } from '../journal/decode.js';
import { RunCollector } from '../openlineage/events.js';
import { producerUri } from '../openlineage/facets.js';
import { ExportError, postEvents } from '../openlineage/post.js';
import { packageVersion } from '../support/package-version.js';
import type { CliCommand } from './command.js';
import { commonOptions, STATE_HELP, stateDirs, timeWindow, UsageError, windowOptions, withUsage, writeJson } from './journal-args.js';

const USAGE = `Usage: provenant export --openlineage URL [--since T] [--until T] [--namespace NS] [--json]

Sends the journal's runs in the window as OpenLineage run events (a START and a COMPLETE per run),
one POST per event, in order. A URL with no path gets /api/v1/lineage (Marquez's endpoint).
Run ids are derived from the records, so exporting a window again names the same runs.
${STATE_HELP}
  --openlineage URL  where to POST the events (http or https)
  --since T          ISO time or a duration back from now (10m, 2h, 1d); default: the whole journal
  --until T          same forms
  --namespace NS     the jobs' namespace (default provenant)
  --json             print {"url","runs","events","sent"} instead of a sentence

Exit: 0 every event accepted, 1 the receiver refused one or could not be reached (nothing after it
was sent), 64 usage.`;

export const exportOpenLineage: CliCommand = {
  summary: 'send the journal as OpenLineage run events (Marquez and other OpenLineage backends)',
  run: (args) =>
    withUsage(USAGE, async () => {
      const { values } = parseArgs({
        args,
        options: { ...commonOptions, ...windowOptions, openlineage: { type: 'string' }, namespace: { type: 'string' } },
      });
      if (values.help) {
        process.stdout.write(USAGE + '\n');
        return 0;
      }
      if (values.openlineage === undefined) throw new UsageError('--openlineage URL is required');
      const url = endpoint(values.openlineage);
      const window = timeWindow(values);
      const runs = new RunCollector({ namespace: values.namespace ?? 'provenant', producer: producerUri(packageVersion()) });
      forEachRecord(stateDirs(values.state), (record, segment) => {
        if (inWindow(record, window)) runs.add({ record, log: segment.name.replace(/-\d+\.jsonl$/, '') });
      });
      const events = runs.events();
      let sent = 0;
      let failure: string | undefined;
      try {
        sent = await postEvents(url, events);
      } catch (error) {
        if (!(error instanceof ExportError)) throw error;
        failure = error.message;
        sent = error.sent;
      }
      if (values.json) writeJson({ url, runs: runs.size, events: events.length, sent, ...(failure ? { error: failure } : {}) });
      else if (failure) process.stderr.write(`provenant: export stopped after ${sent} of ${events.length} event(s): ${failure}\n`);
      else process.stdout.write(`sent ${events.length} event(s) for ${runs.size} run(s) to ${url}\n`);
      return failure ? 1 : 0;
    }),
};

function endpoint(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--openlineage "${text}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`--openlineage "${text}" must be an http:// or https:// URL`);
  return openLineageEndpoint(url);
}
