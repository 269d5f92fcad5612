/**
 * `new Worker(...)`: handing `workerData` (and, later, messages) to a thread. A worker that will
 * run provenant with this process's config and mode (its execArgv or NODE_OPTIONS preload it)
 * starts with the creating context's labels, passed as environment data, which Node clones into
 * the new thread; any other worker is a destination decided before it is created (a denial is
 * thrown by the constructor). Every worker is also handed this thread's service name
 * and, when it runs provenant, this thread's current config (creator.ts) and the compiled code of
 * the bundle its preload loads (support/bundle-code.ts), and a worker that loads the preload gets the
 * share through which this thread closes its journal log once it has ended (its 'exit' event).
 * Only provenant may set that environment data.
 */
import type * as WorkerThreads from 'node:worker_threads';
import { internally, isInternal } from '../../support/reentrancy.js';
import type { Patcher } from '../patcher.js';
import { loadsPreload, startsProvenant, type PolicyIdentity } from '../process/node-child.js';
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
    constructor(filename: string | URL, options?: WorkerThreads.WorkerOptions) {
      // A thread marked as one of provenant's export workers skips the preload (register.ts): an app
      // that sets the mark gets a thread without provenant, decided like any other.
      const preloaded = !isInternal() && !marksExportWorker(options) && preloadsProvenant(options, identity);
      const underProvenant = preloaded && runsProvenant(options, identity);
      const seed = underProvenant ? flows.handOver() : undefined;
      if (!underProvenant && !isInternal()) {
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

function workerEnv(options: WorkerThreads.WorkerOptions | undefined): Record<string, string | undefined> {
  return typeof options?.env === 'object' && options.env !== null ? options.env : process.env;
}

/** The worker loads provenant's preload (its config may differ). */
function preloadsProvenant(options: WorkerThreads.WorkerOptions | undefined, identity: PolicyIdentity): boolean {
  return loadsPreload(options?.execArgv ?? process.execArgv, workerEnv(options), process.cwd(), identity.registerModule);
}

/** The worker runs provenant with this thread's config and mode. */
function runsProvenant(options: WorkerThreads.WorkerOptions | undefined, identity: PolicyIdentity): boolean {
  return startsProvenant(options?.execArgv ?? process.execArgv, workerEnv(options), process.cwd(), identity);
}

/** The workerData marks of provenant's own export threads, which start without provenant. */
const EXPORT_WORKER_MARKS = ['provenantExportWorker'];

function marksExportWorker(options: WorkerThreads.WorkerOptions | undefined): boolean {
  const data: unknown = options?.workerData;
  return typeof data === 'object' && data !== null && EXPORT_WORKER_MARKS.some((mark) => Object.hasOwn(data, mark));
}
