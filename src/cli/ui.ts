/** `provenant ui [--state DIR ...] [--port N] [--host H] [--trace-url URL]` */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startUiServer } from '../ui/server.js';
import type { CliCommand } from './command.js';
import { commonOptions, STATE_HELP, stateDirs, UsageError, withUsage } from './journal-args.js';

const USAGE = `Usage: provenant ui [--port N] [--host H] [--trace-url URL]

A local, read-only web explorer over the journal(s): lineage graph, per-resource timeline,
overview (flows, denials, verification) and comparison of two runs. Runs until interrupted.
${STATE_HELP}
  --port N          port to listen on (default 7381; 0 picks a free one)
  --host H          address to bind (default 127.0.0.1: only this machine can connect)
  --trace-url URL   link trace ids to a tracing UI; {traceId} is replaced, e.g.
                    http://localhost:16686/trace/{traceId} (Jaeger)`;

export const ui: CliCommand = {
  summary: 'browse lineage, timelines, denials and verification in a local web page',
  run: (args) =>
    withUsage(USAGE, async () => {
      const { values } = parseArgs({
        args,
        options: {
          ...commonOptions,
          port: { type: 'string', default: '7381' },
          host: { type: 'string', default: '127.0.0.1' },
          'trace-url': { type: 'string' },
        },
      });
      if (values.help) {
        process.stdout.write(USAGE + '\n');
        return 0;
      }
      const port = Number(values.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be an integer from 0 to 65535');
      const traceUrl = values['trace-url'] ?? null;
      if (traceUrl !== null && !/^https?:\/\//.test(traceUrl)) throw new UsageError('--trace-url must be an http(s) URL');
      const server = await startUiServer({
        stateDirs: stateDirs(values.state),
        traceUrl,
        host: values.host,
        port,
        assetsDir: join(__dirname, '..', 'ui'),
      });
      process.stdout.write(`provenant ui: ${server.url} (read-only; Ctrl-C stops it)\n`);
      await new Promise<void>((resolve) => {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
      });
      await server.close();
      return 0;
    }),
};
