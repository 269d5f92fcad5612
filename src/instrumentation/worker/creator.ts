/**
 * What a worker's provenant takes from the thread under provenant that created it, as environment
 * data only provenant may set there (worker-class.ts): the service name (a worker is part of its
 * creator's service; its own OTEL_SERVICE_NAME or package lookup, with no script in its argv, is
 * not asked), and the creator's current config when the worker was found to run that same config
 * file and mode (so the worker neither re-reads nor re-parses it, and never runs an older policy
 * than its creator after a reload), and the share through which the creator closes the thread's
 * journal log when the thread ends without closing it.
 */
import type { ProvenantConfig } from '../../config/types.js';
import { isMainThread } from '../../support/main-thread.js';

export const WORKER_SERVICE_KEY = 'provenant.worker-service';
export const WORKER_CONFIG_KEY = 'provenant.worker-config';
/** The share through which the creator closes the thread's journal log (journal/thread-handoff.ts). */
export const THREAD_LOG_KEY = 'provenant.thread-log';

function fromCreator(key: string): unknown {
  if (isMainThread()) return undefined;
  return process.getBuiltinModule('node:worker_threads').getEnvironmentData(key);
}

/** In a worker a thread under provenant created: that thread's service name; else undefined. */
export function creatorService(): string | undefined {
  const value = fromCreator(WORKER_SERVICE_KEY);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** In a thread under provenant: what its creator handed over to close its journal log (unchecked). */
export function creatorThreadLog(): unknown {
  return fromCreator(THREAD_LOG_KEY);
}

/** In a worker: the creator's config if it handed one over for `file` (this thread's config file). */
export function creatorConfig(file: string | undefined): ProvenantConfig | undefined {
  if (file === undefined) return undefined;
  const value = fromCreator(WORKER_CONFIG_KEY);
  if (typeof value !== 'object' || value === null) return undefined;
  return (value as Partial<ProvenantConfig>).file === file ? (value as ProvenantConfig) : undefined;
}
