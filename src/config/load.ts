/**
 * Finds, reads and validates the configuration.
 *
 * Resolution: `options.file` ?? `$PROVENANT_CONFIG` ?? `./provenant.yaml` when it exists ?? built-in
 * defaults. A file that was named explicitly (option or variable) but cannot be read is an error,
 * never a fallback to the defaults. `$PROVENANT_MODE` overrides the file's `mode`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { internally } from '../support/reentrancy.js';
import { defaultConfig } from './defaults.js';
import { ConfigError } from './errors.js';
import { MODES, type Mode, type ProvenantConfig } from './types.js';
import { validateConfig } from './validate.js';
import { yamlLib } from './yaml-lib.js';
import { YamlReader } from './yaml-reader.js';

export interface LoadConfigOptions {
  /** Config file; relative paths resolve against `cwd`. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Node id when the file sets none (default: the host name). */
  hostname?: string;
}

export const DEFAULT_CONFIG_FILE = 'provenant.yaml';

export function loadConfig(options: LoadConfigOptions = {}): ProvenantConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const file = configFilePath(options, env, cwd);
  const config =
    file === undefined
      ? defaultConfig(cwd, env, options.hostname ?? hostname())
      : parseConfig(file, readConfigText(file), env, options.hostname);
  return applyEnvironment(config, env);
}

/** The config file that `loadConfig` would read with these options, or undefined for built-in defaults. */
export function configFilePath(options: LoadConfigOptions, env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  const named = options.file ?? (env['PROVENANT_CONFIG'] || undefined);
  if (named !== undefined) return resolve(cwd, named);
  const local = resolve(cwd, DEFAULT_CONFIG_FILE);
  return internally(() => existsSync(local)) ? local : undefined;
}

export function readConfigText(file: string): string {
  try {
    return internally(() => readFileSync(file, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(code === 'ENOENT' ? 'file not found' : `cannot read the file (${code ?? String(error)})`, file);
  }
}

/** Parse and validate YAML text as the config file `file` (absolute). */
export function parseConfig(file: string, text: string, env: NodeJS.ProcessEnv = process.env, host?: string): ProvenantConfig {
  const { LineCounter, parseDocument } = yamlLib();
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const reader = new YamlReader(file, doc, lines, text);
  const syntaxError = doc.errors[0];
  if (syntaxError) reader.failAt(syntaxError.pos[0], `YAML syntax error: ${lowerFirst(syntaxError.message)}`);
  const base = defaultConfig(dirname(file), env, host ?? hostname());
  base.file = file;
  return validateConfig(reader, doc.contents, base);
}

/** Apply environment overrides (`PROVENANT_MODE`) to a parsed config. */
export function applyEnvironment(config: ProvenantConfig, env: NodeJS.ProcessEnv): ProvenantConfig {
  const mode = env['PROVENANT_MODE'];
  if (mode !== undefined && mode !== '') {
    if (!(MODES as readonly string[]).includes(mode)) {
      throw new ConfigError(`PROVENANT_MODE must be one of ${MODES.join(', ')}, got "${mode}"`);
    }
    config.mode = mode as Mode;
  }
  return config;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
