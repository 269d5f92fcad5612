/**
 * The OpenLineage export worker: at each checkpoint of this process's log, the records up to it
 * that were not exported yet become run events POSTed to the configured endpoint, off the app's
 * thread and outside its instrumentation (the worker runs without the preload). The journal is
 * the outbox: a cursor per log (`<state>/openlineage/<log>.cursor`, written atomically after the
 * receiver accepted every event of a batch) says how far it got. A failed batch is retried with
 * backoff and at the next checkpoint; a worker starting in the same state dir also exports what
 * exited processes of the same service left behind (their records past their cursor, checkpointed
 * or not). Delivery is at least once: a crash between a POST and the cursor write sends a batch
 * again, with the same run ids.
 */
import { basename } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { forEachSegmentRecord } from '../journal/decode.js';
import { listLogs } from '../journal/logs.js';
import { readCursor, writeCursor } from './cursor.js';
import { RunCollector } from './events.js';
import { postEvents } from './post.js';
import type { FlushMessage } from '../support/flushable-worker.js';
import { processAlive } from '../support/process-alive.js';

export interface OpenLineageWorkerData {
  url: string;
  namespace: string;
  producer: string;
  stateDir: string;
  service: string;
}

export type ToOpenLineageWorker = { type: 'checkpoint'; size: number; segments: string[] } | FlushMessage;
export type FromOpenLineageWorker = { type: 'problem'; message: string };

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;

const data = workerData as OpenLineageWorkerData;

/** What is left to export of one log: its segments and how far its records go. */
interface Pending {
  segments: readonly string[];
  /** Export records up to this seq (Infinity: every record of an exited process). */
  upTo: number;
}

const pending = new Map<string, Pending>();
let queue: Promise<void> = Promise.resolve();
let retryMs = RETRY_MIN_MS;
let retryTimer: NodeJS.Timeout | undefined;

function logName(segments: readonly string[]): string {
  return basename(segments[0]).replace(/-\d+\.jsonl$/, '');
}

/** Exports one log's records past its cursor, up to `work.upTo`. */
async function exportLog(log: string, work: Pending): Promise<void> {
  const from = readCursor(data.stateDir, log).exported;
  const toEnd = work.upTo === Infinity;
  const runs = new RunCollector({ namespace: data.namespace, producer: data.producer });
  let last = from;
  for (const segment of work.segments) {
    forEachSegmentRecord(segment, from, (record) => {
      if (record.seq > work.upTo) return false;
      last = record.seq;
      runs.add({ record, log });
    });
  }
  if (last > from) await postEvents(data.url, runs.events());
  if (last > from || toEnd) writeCursor(data.stateDir, log, toEnd ? { exported: last, done: true } : { exported: last });
}

async function drain(): Promise<void> {
  for (const [log, work] of [...pending]) {
    try {
      await exportLog(log, work);
      // A checkpoint that came in meanwhile stays for the next pass.
      if (pending.get(log) === work) pending.delete(log);
      retryMs = RETRY_MIN_MS;
    } catch (error) {
      report(`OpenLineage export of ${log} failed, retrying: ${error instanceof Error ? error.message : String(error)}`);
      retryTimer ??= setTimeout(() => {
        retryTimer = undefined;
        void schedule();
      }, retryMs);
      retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
      return;
    }
  }
}

function schedule(): Promise<void> {
  queue = queue.then(drain);
  return queue;
}

function report(message: string): void {
  const problem: FromOpenLineageWorker = { type: 'problem', message };
  parentPort?.postMessage(problem);
}

/** Logs of this service's exited processes with records past their cursor. */
function adoptExited(): void {
  for (const log of listLogs([data.stateDir])) {
    if (log.header.service !== data.service || log.header.pid === process.pid || processAlive(log.header.pid)) continue;
    if (readCursor(data.stateDir, log.prefix).done === true) continue;
    pending.set(log.prefix, { segments: log.segments.map((s) => s.path), upTo: Infinity });
  }
}

parentPort?.on('message', (message: ToOpenLineageWorker) => {
  if (message.type === 'checkpoint') {
    pending.set(logName(message.segments), { segments: message.segments, upTo: message.size });
    void schedule();
  } else {
    // Settles once everything submitted so far had one attempt.
    void schedule().then(() => {
      Atomics.store(message.flag, 0, 1);
      Atomics.notify(message.flag, 0);
    });
  }
});

try {
  adoptExited();
  if (pending.size > 0) void schedule();
} catch (error) {
  report(`reading exited processes' journals failed: ${error instanceof Error ? error.message : String(error)}`);
}
