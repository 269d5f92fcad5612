/**
 * Worker threads: `workerData`, `postMessage` in both directions, MessagePorts and
 * BroadcastChannels (worker-class.ts, ports.ts, thread-flows.ts). Kept apart from the process
 * instrumentation: the preload's own behaviour inside workers is its own concern.
 */
// The module object itself (not an ES namespace copy), so patches reach every user of worker_threads.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import workerThreads = require('node:worker_threads');
import type { Instrumentation, InstrumentationContext } from '../instrumentation.js';
import { Patcher } from '../patcher.js';
import { guardPort, patchPorts } from './ports.js';
import { ThreadFlows } from './thread-flows.js';
import { patchWorkerClass, WORKER_SEED_KEY } from './worker-class.js';

export class WorkerInstrumentation implements Instrumentation {
  readonly name = 'worker';
  private readonly patcher = new Patcher();

  enable(context: InstrumentationContext): void {
    const { engine, config } = context;
    const flows = new ThreadFlows(engine);
    const parentPort = workerThreads.parentPort;
    if (parentPort) {
      // In a worker a provenant parent created: start with what it handed over, and label what goes back.
      if (flows.seedFrom(workerThreads.getEnvironmentData(WORKER_SEED_KEY))) flows.mediatedPorts.add(parentPort);
      guardPort(parentPort, flows);
      // Ports and FileHandles transferred with workerData.
      context.transfers.received(workerThreads.workerData, (port) => guardPort(port, flows));
    }
    patchWorkerClass(flows, { configFile: config.file, mode: config.mode, registerModule: context.registerModule }, this.patcher);
    patchPorts(flows, this.patcher, context.transfers);
  }

  disable(): void {
    this.patcher.restoreAll();
  }
}
