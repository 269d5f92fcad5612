/**
 * Worker threads: `workerData`, `postMessage` in both directions, MessagePorts and
 * BroadcastChannels (worker-class.ts, ports.ts, thread-flows.ts). Kept apart from the process
 * instrumentation: the preload's own behaviour inside workers is its own concern.
 */
import type * as WorkerThreads from 'node:worker_threads';
import { whenBuiltinLoaded } from '../builtin-loads.js';
import type { Instrumentation, InstrumentationContext } from '../instrumentation.js';
import { isInternalThread, isMainThread } from '../../support/main-thread.js';
import { Patcher } from '../patcher.js';
import { handOverToHooksThread } from './hooks-thread.js';
import { guardPort, patchPorts, patchWorkerThreadsPorts } from './ports.js';
import { ThreadFlows } from './thread-flows.js';
import { patchWorkerClass, WORKER_SEED_KEY } from './worker-class.js';

export class WorkerInstrumentation implements Instrumentation {
  readonly name = 'worker';
  private readonly patcher = new Patcher();

  enable(context: InstrumentationContext): void {
    const { engine, config } = context;
    const flows = new ThreadFlows(engine);
    const nodeThread = isInternalThread();
    const MessageChannel = patchPorts(flows, this.patcher, context.transfers, !nodeThread);
    const identity = { configFile: config.file, mode: config.mode, registerModule: context.registerModule };
    // As Node first loads it in this thread, however it is loaded, and never by provenant (its load
    // wraps process.chdir: builtin-loads.ts); in a worker thread it is loaded already: at once.
    whenBuiltinLoaded(this.patcher, 'worker_threads', (loaded) => {
      const workerThreads = loaded as typeof WorkerThreads;
      const parentPort = workerThreads.parentPort;
      // Node's module-hooks thread (module.register) answers the loader on ports Node made and
      // handed in its workerData: they carry module sources, not app data, and are left alone.
      if (parentPort && !nodeThread) {
        // In a worker a provenant parent created: start with what it handed over, and label what goes back.
        if (flows.seedFrom(workerThreads.getEnvironmentData(WORKER_SEED_KEY))) flows.mediatedPorts.add(parentPort);
        guardPort(parentPort, flows);
        // Ports and FileHandles transferred with workerData.
        context.transfers.received(workerThreads.workerData, (port) => guardPort(port, flows));
      }
      const handover = { service: context.service, config: context.currentConfig, threadLogs: context.threadLogs };
      patchWorkerClass(workerThreads, flows, identity, handover, this.patcher);
      patchWorkerThreadsPorts(workerThreads, MessageChannel, flows, this.patcher, context.transfers);
    });
    if (isMainThread()) handOverToHooksThread(this.patcher, context.service, context.threadLogs);
  }

  disable(): void {
    this.patcher.restoreAll();
  }
}
