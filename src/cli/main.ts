#!/usr/bin/env node
/**
 * `provenant` command: dispatches to one module per command so each stays small.
 */
import { unsupportedNode } from '../runtime/supported-node.js';
import { commands } from './commands.js';

const USAGE = `provenant — provenance, policy and lineage for Node.js services

Usage: provenant <command> [options]

Commands:
${Object.entries(commands)
  .map(([name, command]) => `  ${name.padEnd(16)} ${command.summary}`)
  .join('\n')}

Every command takes --state DIR (default $PROVENANT_STATE_DIR, else $XDG_STATE_HOME/provenant,
else ~/.local/state/provenant) and --help.`;

async function main(argv: string[]): Promise<number> {
  // The same refusal as the preload: journals read or written by an unsupported runtime are not vouched for.
  const unsupported = unsupportedNode();
  if (unsupported !== undefined) {
    process.stderr.write(`${unsupported}\n`);
    return 78;
  }
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE + '\n');
    return name === undefined ? 64 : 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`provenant: unknown command "${name}"\n\n${USAGE}\n`);
    return 64;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`provenant: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 70;
  },
);
