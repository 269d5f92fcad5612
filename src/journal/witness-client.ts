/**
 * The app-thread side of witness submission: hands each checkpoint to the witness worker (a
 * message post, never I/O on the app's path) and reports what the worker finds through diag.
 * `flushSync` blocks, bounded, until the worker has tried every reachable witness, so the final
 * checkpoint written at exit is submitted too.
 */
import { join } from 'node:path';
import { ownFile } from '../support/own-files.js';
import { diag } from '@opentelemetry/api';
import type { WitnessConfig } from '../config/types.js';
import { FlushableWorker, type PendingFlush } from '../support/flushable-worker.js';
import type { FromWitnessWorker, ToWitnessWorker, WitnessWorkerData } from './witness-worker.js';
import type { WrittenCheckpoint } from './writer.js';

export class WitnessClient {
  private readonly worker: FlushableWorker<ToWitnessWorker, FromWitnessWorker>;

  constructor(witnesses: readonly WitnessConfig[], stateDir: string) {
    const data: WitnessWorkerData = {
      witnesses: witnesses.map((w) => ({ url: w.url, vkey: w.vkey })),
      journalDir: join(stateDir, 'journal'),
    };
    this.worker = new FlushableWorker(
      ownFile('journal', 'witness-worker.js'),
      data,
      (message: FromWitnessWorker) => {
        if (message.type === 'problem') {
          (message.message.startsWith('split view') ? diag.error : diag.warn)(`provenant: ${message.message}`);
        } else {
          diag.debug(`provenant: ${message.witness} cosigned ${message.origin} at size ${message.size}`);
        }
      },
      (error) => diag.warn('provenant: witness worker failed; checkpoints are no longer witnessed', error),
    );
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

  /** Asks for a flush (settled once every reachable witness was tried); `waitForFlushes` waits for it. */
  requestFlush(): PendingFlush | undefined {
    return this.worker.requestFlush();
  }

  close(): Promise<number> {
    return this.worker.close();
  }

  private post(message: ToWitnessWorker): void {
    this.worker.post(message);
  }
}
