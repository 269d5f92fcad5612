/** Shape of one `provenant` sub-command. */
export interface CliCommand {
  /** One line for `provenant --help`. */
  summary: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(args: string[]): Promise<number>;
}
