/**
 * The one error a bad configuration produces. It names the file, line and column and says what is
 * wrong, so `provenant policy validate` and the preload (exit 78) can print it as is.
 */
import type { TextPosition } from './types.js';

/** The exit code of a start provenant refuses (sysexits EX_CONFIG): a bad config, key or runtime. */
export const EX_CONFIG = 78;

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

/** A problem at `offset` inside a text value of the config (a monitor's rule, an attested fact). */
export function errorInText(problem: string, file: string | undefined, at: TextPosition, text: string, offset: number): ConfigError {
  const before = text.slice(0, offset);
  const newlines = at.block ? before.split('\n').length - 1 : 0;
  const column = newlines === 0 ? at.column + offset : at.column + offset - before.lastIndexOf('\n') - 1;
  return new ConfigError(problem, file, at.line + newlines, column);
}
