/**
 * Does a child run under provenant with this process's policy? Only then can data handed to it
 * keep its labels there (through the signed claim in its environment); any other child is an
 * ordinary destination. The test is strict on purpose: the executable must be this very Node
 * binary (a script named `node` is not), the preload must be provenant's, and the child's
 * environment must not name another config or a weaker mode.
 */
import { accessSync, constants, realpathSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { splitNodeOptions, takesSeparateValue } from '../../support/node-options.js';
import { internally } from '../../support/reentrancy.js';

/** A child as it is about to be spawned. */
export interface ChildSpec {
  /** The executable as given (a name looked up in PATH, or a path). */
  readonly file: string;
  /** Arguments after argv[0]. */
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** What makes a Node child "under this process's policy". */
export interface PolicyIdentity {
  /** The config file this process enforces; without one a child cannot be shown to use the same policy. */
  readonly configFile: string | undefined;
  readonly mode: string;
  /** Absolute, symlinks resolved. */
  readonly registerModule: string;
}

const PRELOAD_FLAGS = new Set(['-r', '--require', '--import']);

export function runsUnderProvenant(child: ChildSpec, identity: PolicyIdentity): boolean {
  return isThisNode(child) && startsProvenant(child.args, child.env, child.cwd, identity);
}

/**
 * Node started with these options (before the script) and environment loads provenant's preload
 * with this process's config and mode. Shared with worker threads, which take the same options.
 */
export function startsProvenant(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
  identity: PolicyIdentity,
): boolean {
  if (identity.configFile === undefined) return false;
  const config = env['PROVENANT_CONFIG'];
  if (config !== undefined && config !== '' && resolve(cwd, config) !== identity.configFile) return false;
  const mode = env['PROVENANT_MODE'];
  if (mode !== undefined && mode !== '' && mode !== identity.mode) return false;
  return loadsPreload(args, env, cwd, identity.registerModule);
}

/** Node started with these options and environment loads provenant's preload, whatever its config. */
export function loadsPreload(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
  registerModule: string,
): boolean {
  return preloads(args, cwd, registerModule) || preloads(splitNodeOptions(env['NODE_OPTIONS']), cwd, registerModule);
}

/** True when the executable resolves (through PATH) to the binary running this process. */
function isThisNode(child: ChildSpec): boolean {
  return internally(() => {
    const executable = resolveExecutable(child.file, child.env['PATH'], child.cwd);
    if (executable === undefined) return false;
    try {
      return realpathSync(executable) === realpathSync(process.execPath);
    } catch {
      return false;
    }
  });
}

function resolveExecutable(file: string, path: string | undefined, cwd: string): string | undefined {
  if (file.includes('/')) return resolve(cwd, file);
  for (const dir of (path ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(isAbsolute(dir) ? dir : resolve(cwd, dir), file);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here: the next PATH entry
    }
  }
  return undefined;
}

/**
 * Node options (before the script) include a preload of provenant's register module. An option
 * Node reads with a separate value (`--cpu-prof-interval 50`) takes the next argument with it;
 * any other non-option argument is the script, where Node stops reading options.
 */
function preloads(args: readonly string[], cwd: string, registerModule: string): boolean {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--' || !arg.startsWith('-')) return false;
    let value: string | undefined;
    if (takesSeparateValue(arg)) value = args[++i];
    else if (arg.startsWith('--require=') || arg.startsWith('--import=')) value = arg.slice(arg.indexOf('=') + 1);
    if (value !== undefined && PRELOAD_FLAGS.has(arg.split('=')[0]) && isRegisterModule(value, cwd, registerModule)) return true;
  }
  return false;
}

function isRegisterModule(specifier: string, cwd: string, registerModule: string): boolean {
  if (specifier === 'provenant/register') return true;
  try {
    const path = specifier.startsWith('file:') ? fileURLToPath(specifier) : resolve(cwd, specifier);
    return internally(() => realpathSync(path)) === registerModule;
  } catch {
    return false;
  }
}
