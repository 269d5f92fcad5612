/** Every instrumentation provenant enables at preload, in order. */
import { FsInstrumentation } from './fs.js';
import type { Instrumentation } from './instrumentation.js';
import { NetworkInstrumentation } from './net/index.js';
import { ProcessInstrumentation } from './process/index.js';
import { WorkerInstrumentation } from './worker/index.js';

export function createInstrumentations(): Instrumentation[] {
  return [new FsInstrumentation(), new NetworkInstrumentation(), new ProcessInstrumentation(), new WorkerInstrumentation()];
}
