/** `provenant witness --listen ADDR --state DIR --log-key VKEY... [--name NAME]`: a C2SP witness server. */
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { parseVkey, SIG_ED25519 } from '../journal/note.js';
import { WitnessServer } from '../journal/witness-server.js';
import type { CliCommand } from './command.js';
import { UsageError, withUsage } from './journal-args.js';

const USAGE = `Usage: provenant witness --listen HOST:PORT --state DIR --log-key VKEY... [--name NAME]

Runs a C2SP tlog-witness: POST /add-checkpoint cosigns checkpoints of the trusted logs that are
consistent with the last one it cosigned (200 with a cosignature; 409 with its size when the old
size differs; 403 unsigned, 404 unknown log, 422 inconsistent), and GET /<sha256(origin)>/checkpoint
serves the latest. A log is trusted when its origin is a --log-key's name or extends it with /….
Prints "listening http://HOST:PORT" and "vkey <its cosignature vkey>" once ready.
  --listen HOST:PORT  address to listen on (port 0: any free port)
  --state DIR         where the witness key and the cosigned checkpoints are kept
  --log-key VKEY      a log key to accept (repeatable; \`provenant keys\` prints them)
  --name NAME         the witness's key name (default provenant-witness/<host name>)`;

export const witness: CliCommand = {
  summary: 'run a C2SP tlog-witness server that cosigns journal checkpoints',
  run: (args) =>
    withUsage(USAGE, async () => {
      const { values } = parseArgs({
        args,
        options: {
          listen: { type: 'string' },
          state: { type: 'string' },
          'log-key': { type: 'string', multiple: true },
          name: { type: 'string' },
          help: { type: 'boolean', short: 'h', default: false },
        },
      });
      if (values.help) {
        process.stdout.write(USAGE + '\n');
        return 0;
      }
      const listen = /^(.+):(\d{1,5})$/.exec(values.listen ?? '');
      if (!listen) throw new UsageError('--listen HOST:PORT is required');
      if (!values.state) throw new UsageError('--state DIR is required');
      const logKeys = (values['log-key'] ?? []).map((text) => {
        try {
          return parseVkey(text);
        } catch (error) {
          throw new UsageError(`--log-key: ${(error as Error).message}`);
        }
      });
      if (logKeys.length === 0 || logKeys.some((k) => k.type !== SIG_ED25519))
        throw new UsageError('--log-key needs Ed25519 (type 0x01) log vkeys');
      const server = new WitnessServer({ stateDir: values.state, name: values.name ?? `provenant-witness/${hostname()}`, logKeys });
      const http = await server.listen(Number(listen[2]), listen[1].replace(/^\[|\]$/g, ''));
      const address = http.address();
      const port = typeof address === 'object' && address ? address.port : Number(listen[2]);
      const host = listen[1].includes(':') && !listen[1].startsWith('[') ? `[${listen[1]}]` : listen[1];
      process.stdout.write(`listening http://${host}:${port}\nvkey ${server.vkey.text}\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          http.close(() => resolve());
          http.closeAllConnections();
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
      return 0;
    }),
};
