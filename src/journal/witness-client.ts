/**
 * The app-thread side of witness submission: hands each checkpoint to the witness worker (a
 * message post, never I/O on the app's path) and reports what the worker finds through diag.
 * `flushSync` blocks, bounded, until the worker has tried every reachable witness, so the final
 * checkpoint written at exit is submitted too.
 */
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { diag } from '@opentelemetry/api';
import type { WitnessConfig } from '../config/types.js';
import type { FromWitnessWorker, ToWitnessWorker, WitnessWorkerData } from './witness-worker.js';
import type { WrittenCheckpoint } from './writer.js';

export class WitnessClient {
  private readonly worker: Worker;

  constructor(witnesses: readonly WitnessConfig[], stateDir: string) {
    const data: WitnessWorkerData = {
      witnesses: witnesses.map((w) => ({ url: w.url, vkey: w.vkey })),
      journalDir: join(stateDir, 'journal'),
    };
    // execArgv: [] so the worker never loads the preload: its requests are provenant's, not the app's flows.
    this.worker = new (process.getBuiltinModule('node:worker_threads').Worker)(join(__dirname, 'witness-worker.js'), {
      workerData: data,
      execArgv: [],
      stdout: false,
      stderr: false,
    });
    this.worker.on('error', (error) => diag.warn('provenant: witness worker failed; checkpoints are no longer witnessed', error));
    this.worker.on('message', (message: FromWitnessWorker) => {
      if (message.type === 'problem') {
        (message.message.startsWith('split view') ? diag.error : diag.warn)(`provenant: ${message.message}`);
      } else {
        diag.debug(`provenant: ${message.witness} cosigned ${message.origin} at size ${message.size}`);
      }
    });
    // After the listeners: adding a 'message' listener refs the worker again.
    this.worker.unref();
  }

  submit(checkpoint: WrittenCheckpoint): void {
    this.post({
      type: 'checkpoint',
      checkpoint: {
        origin: checkpoint.origin,
        size: checkpoint.size,
        note: checkpoint.note,
        peaks: checkpoint.peaks.map((p) => p.toString('base64')),
        segments: [...checkpoint.segments],
      },
    });
  }

  /** Blocks until the worker is idle or `timeoutMs` passed; true when idle. */
  flushSync(timeoutMs: number): boolean {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    this.post({ type: 'flush', flag });
    return Atomics.wait(flag, 0, 0, timeoutMs) !== 'timed-out';
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }

  private post(message: ToWitnessWorker): void {
    this.worker.postMessage(message);
  }
}
