/**
 * In enforce mode every worker the app creates runs provenant: a worker started without the
 * preload (`execArgv: []`, an `env` without the NODE_OPTIONS that preloaded it) or under another
 * config or mode would read labelled data untainted and send it anywhere, the app switching its
 * monitor off for a thread. So its options are rewritten before Node sees them: provenant's preload
 * goes first in `execArgv` (the app's own flags, `--require`/`--import` of other modules included,
 * follow unchanged) and its `env` names this process's config and mode. A shape that cannot be
 * rewritten is refused, with the reason (worker-class.ts).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type * as WorkerThreads from 'node:worker_threads';
import { DEFAULT_CONFIG_FILE } from '../../config/load.js';
import { internally } from '../../support/reentrancy.js';
import type { PolicyIdentity } from '../process/node-child.js';
import { loadsPreload, startsProvenant } from '../process/node-child.js';

/** The workerData marks of provenant's own export threads, which start without provenant (preload.ts). */
const EXPORT_WORKER_MARKS = ['provenantExportWorker'];

export function marksExportWorker(options: WorkerThreads.WorkerOptions | undefined): boolean {
  const data: unknown = options?.workerData;
  return typeof data === 'object' && data !== null && EXPORT_WORKER_MARKS.some((mark) => Object.hasOwn(data, mark));
}

export function workerEnv(options: WorkerThreads.WorkerOptions | undefined): Record<string, string | undefined> {
  return typeof options?.env === 'object' && options.env !== null ? options.env : process.env;
}

function execArgvOf(options: WorkerThreads.WorkerOptions | undefined): readonly string[] {
  return options?.execArgv ?? process.execArgv;
}

/** The worker loads provenant's preload (its config may differ). */
export function preloadsProvenant(options: WorkerThreads.WorkerOptions | undefined, identity: PolicyIdentity): boolean {
  return loadsPreload(execArgvOf(options), workerEnv(options), process.cwd(), identity.registerModule);
}

/** The worker runs provenant with this thread's config and mode. */
export function runsProvenant(options: WorkerThreads.WorkerOptions | undefined, identity: PolicyIdentity): boolean {
  return startsProvenant(execArgvOf(options), workerEnv(options), process.cwd(), identity);
}

/**
 * The worker runs provenant with this thread's policy. Without a config file (the built-in
 * defaults) that is: the preload, this mode named, no config named, and none in the working
 * directory that the worker's preload would find there instead.
 */
function monitors(options: WorkerThreads.WorkerOptions | undefined, identity: PolicyIdentity): boolean {
  if (identity.configFile !== undefined) return runsProvenant(options, identity);
  const env = workerEnv(options);
  return (
    preloadsProvenant(options, identity) &&
    env['PROVENANT_MODE'] === identity.mode &&
    !env['PROVENANT_CONFIG'] &&
    !internally(() => existsSync(resolve(DEFAULT_CONFIG_FILE)))
  );
}

/** Options under which the worker runs provenant with this thread's config and mode, or why there are none. */
export function monitoredOptions(
  options: WorkerThreads.WorkerOptions | undefined,
  identity: PolicyIdentity,
): { readonly options: WorkerThreads.WorkerOptions | undefined } | { readonly refused: string } {
  if (marksExportWorker(options))
    return { refused: "its workerData carries the mark of provenant's own export threads, which start without provenant" };
  if (monitors(options, identity)) return { options };
  const rewritten: WorkerThreads.WorkerOptions = { ...options };
  // SHARE_ENV: the worker uses this process's environment itself, which provenant leaves alone.
  if (typeof options?.env !== 'symbol') {
    const env: Record<string, string | undefined> = { ...workerEnv(options), PROVENANT_MODE: identity.mode };
    if (identity.configFile !== undefined) env['PROVENANT_CONFIG'] = identity.configFile;
    else delete env['PROVENANT_CONFIG'];
    rewritten.env = env;
  }
  if (!preloadsProvenant(rewritten, identity)) rewritten.execArgv = ['--require', identity.registerModule, ...execArgvOf(options)];
  if (monitors(rewritten, identity)) return { options: rewritten };
  if (typeof options?.env === 'symbol')
    return { refused: "it shares this process's environment (SHARE_ENV), which names another config or mode than this process enforces" };
  return { refused: `this process runs the built-in defaults, and the worker would find ${resolve(DEFAULT_CONFIG_FILE)} instead` };
}
