/**
 * The one error a bad configuration produces. It names the file, line and column and says what is
 * wrong, so `provenant policy validate` and the preload (exit 78) can print it as is.
 */
export class ConfigError extends Error {
  /** Absolute path of the config file; undefined for problems in environment variables. */
  readonly file: string | undefined;
  /** 1-based; undefined when the problem has no place in the file (e.g. it cannot be read). */
  readonly line: number | undefined;
  readonly column: number | undefined;
  /** What is wrong, without the location prefix. */
  readonly problem: string;

  constructor(problem: string, file?: string, line?: number, column?: number) {
    super(`provenant: invalid config${formatPlace(file, line, column)}: ${problem}`);
    this.name = 'ConfigError';
    this.problem = problem;
    this.file = file;
    this.line = line;
    this.column = column;
  }
}

function formatPlace(file: string | undefined, line: number | undefined, column: number | undefined): string {
  if (file === undefined) return '';
  if (line === undefined) return ` ${file}`;
  return ` ${file}:${line}:${column ?? 1}`;
}

export function isConfigError(error: unknown): error is ConfigError {
  return error instanceof ConfigError;
}
