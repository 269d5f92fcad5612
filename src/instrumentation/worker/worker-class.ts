/**
 * `new Worker(...)`: handing `workerData` (and, later, messages) to a thread. A worker that will
 * run provenant with this process's config and mode (its execArgv or NODE_OPTIONS preload it)
 * starts with the creating context's labels, passed as environment data, which Node clones into
 * the new thread. In enforce mode every worker the app creates runs provenant (monitored-options.ts);
 * in audit mode any other worker is recorded as a violation and is a destination decided before it
 * is created (a denial is thrown by the constructor). Every worker is also handed this thread's service name
 * and, when it runs provenant, this thread's current config (creator.ts) and the compiled code of
 * the bundle its preload loads (support/bundle-code.ts), and a worker that loads the preload gets the
 * share through which this thread closes its journal log once it has ended (its 'exit' event).
 * Only provenant may set that environment data.
 */
import type * as WorkerThreads from 'node:worker_threads';
import { internally, isInternal } from '../../support/reentrancy.js';
import type { Patcher } from '../patcher.js';
import type { PolicyIdentity } from '../process/node-child.js';
import { marksExportWorker, monitoredOptions, preloadsProvenant, runsProvenant } from './monitored-options.js';
import type { ThreadFlows } from './thread-flows.js';
import type { ProvenantConfig } from '../../config/types.js';
import { THREAD_LOG_KEY, WORKER_CONFIG_KEY, WORKER_SERVICE_KEY } from './creator.js';
import type { ThreadLogs } from '../instrumentation.js';
import { BUNDLE_CODE_KEY, bundleCodeForWorker } from '../../support/bundle-code.js';

export const WORKER_SEED_KEY = 'provenant.worker-seed';
const RESERVED_KEYS: ReadonlySet<string> = new Set([
  WORKER_SEED_KEY,
  WORKER_SERVICE_KEY,
  WORKER_CONFIG_KEY,
  BUNDLE_CODE_KEY,
  THREAD_LOG_KEY,
]);

/** What every worker this thread creates is handed. */
export interface Handover {
  readonly service: string;
  /** The config in force now (after reloads). */
  readonly config: () => ProvenantConfig;
  readonly threadLogs: ThreadLogs;
}

export function patchWorkerClass(
  workerThreads: typeof WorkerThreads,
  flows: ThreadFlows,
  identity: PolicyIdentity,
  handover: Handover,
  patcher: Patcher,
): void {
  const setEnvironmentData = workerThreads.setEnvironmentData;
  const mediated = new WeakSet<object>();
  const Original = workerThreads.Worker;

  class Worker extends Original {
    constructor(filename: string | URL, given?: WorkerThreads.WorkerOptions) {
      const internal = isInternal();
      // The mode in force now (a reload may have changed it).
      const current: PolicyIdentity = { ...identity, mode: handover.config().mode };
      // provenant's own threads (created internally) stay preload-free; every other one runs it in
      // enforce mode, or is refused before it exists; audit mode starts it as given, and records a violation.
      let options = given;
      if (!internal) {
        const monitored = monitoredOptions(given, current);
        const enforce = current.mode === 'enforce';
        if ('options' in monitored && enforce) options = monitored.options;
        else if ('refused' in monitored || monitored.options !== given) {
          const why =
            'refused' in monitored ? monitored.refused : "it does not load provenant's preload with this process's config and mode";
          const denied = flows.unmonitored(why, enforce);
          if (denied) throw denied;
        }
      }
      // A thread marked as one of provenant's export workers skips the preload (register.ts): in
      // audit mode an app that sets the mark gets a thread without provenant, decided like any other.
      const preloaded = !internal && !marksExportWorker(options) && preloadsProvenant(options, current);
      const underProvenant = preloaded && runsProvenant(options, current);
      const seed = underProvenant ? flows.handOver() : undefined;
      if (!underProvenant && !internal) {
        const denied = flows.toUnknown();
        if (denied) throw denied;
      }
      const handed: [string, WorkerThreads.Serializable][] = [[WORKER_SERVICE_KEY, handover.service]];
      if (seed) handed.push([WORKER_SEED_KEY, seed], [WORKER_CONFIG_KEY, handover.config()]);
      // The compiled bundle, so the worker's preload does not parse and compile it again (whatever
      // config the worker runs: this is code, not policy).
      const code = preloaded ? bundleCodeForWorker() : undefined;
      if (code) handed.push([BUNDLE_CODE_KEY, code]);
      const log = preloaded ? handover.threadLogs.handOver() : undefined;
      if (log) handed.push([THREAD_LOG_KEY, log]);
      internally(() => {
        for (const [key, value] of handed) setEnvironmentData(key, value);
      });
      try {
        super(filename, options);
      } finally {
        // Cloned into the new thread by the constructor; later workers get their own.
        internally(() => {
          for (const [key] of handed) setEnvironmentData(key, undefined);
        });
      }
      if (underProvenant) mediated.add(this);
      if (log) this.once('exit', () => handover.threadLogs.ended(log));
    }

    override postMessage(value: unknown, transferList?: readonly WorkerThreads.Transferable[]): void {
      if (isInternal()) return super.postMessage(value, transferList);
      if (mediated.has(this)) return super.postMessage(flows.toMediated(value), transferList);
      const denied = flows.toUnknown();
      if (denied) throw denied;
      return super.postMessage(value, transferList);
    }
  }

  patcher.define(workerThreads, 'Worker', Worker);
  patcher.wrap(
    workerThreads,
    'setEnvironmentData',
    (original) =>
      function (key: WorkerThreads.Serializable, value?: WorkerThreads.Serializable): void {
        if (typeof key === 'string' && RESERVED_KEYS.has(key) && !isInternal()) throw new RangeError(`"${key}" is reserved for provenant`);
        original(key, value);
      },
  );
}
