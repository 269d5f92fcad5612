/** Every instrumentation provenant enables at preload, in order. */
import { DgramInstrumentation } from './dgram/index.js';
import { DnsInstrumentation } from './dns/index.js';
import { FsInstrumentation } from './fs.js';
import { Http2Instrumentation } from './http2/index.js';
import type { Instrumentation } from './instrumentation.js';
import { NetworkInstrumentation } from './net/index.js';
import { ProcessInstrumentation } from './process/index.js';
import { WorkerInstrumentation } from './worker/index.js';

export function createInstrumentations(): Instrumentation[] {
  return [
    new FsInstrumentation(),
    new NetworkInstrumentation(),
    new DgramInstrumentation(),
    new DnsInstrumentation(),
    new Http2Instrumentation(),
    new ProcessInstrumentation(),
    new WorkerInstrumentation(),
  ];
}
