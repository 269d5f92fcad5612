/** The table of `provenant` commands. Each lives in its own module. */
import type { CliCommand } from './command.js';

export const commands: Record<string, CliCommand> = {};
