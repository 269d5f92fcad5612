/**
 * The witness submission worker: sends the newest checkpoint of each log to every configured
 * C2SP witness (`add-checkpoint`, with a consistency proof from the size the witness last
 * cosigned), off the app's thread and outside its instrumentation. Leaves after that size are read
 * back from the log's segments, so nothing but a few peaks is kept per checkpoint. Failures are
 * retried with backoff; cosignatures are verified and kept, latest per log, in `<log>.cosigned`
 * (written atomically) where `verify` finds them. A witness that is ahead of the log, or rejects a
 * proof from a size it reported, holds a checkpoint this process never signed: a split view.
 * The queue is durable: the newest checkpoint not yet cosigned by every witness is kept in
 * `<log>.pending`, and a worker starting in the same state dir adopts the pending logs of processes
 * that are gone and submits them (the leaves come from their segments).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { consistencyProofFromPeaks, MerkleAccumulator, type Hash } from './merkle.js';
import { checkCosignature, parseNote, parseVkey, type NoteSignature, type Vkey } from './note.js';
import { readLeaves } from './read.js';
import { formatAddCheckpoint, parseSizeBody } from './tlog-witness.js';
import { orphanedPending, removePending, writeCosigned, writePending, type WireCheckpoint } from './witness-files.js';
import { postText } from './witness-http.js';
import type { FlushMessage } from '../support/flushable-worker.js';

export interface WitnessWorkerData {
  witnesses: { url: string; vkey: string }[];
  /** `<state>/journal`: where pending checkpoints of exited processes are found. */
  journalDir: string;
}

export type ToWitnessWorker = { type: 'checkpoint'; checkpoint: WireCheckpoint } | FlushMessage;

export type FromWitnessWorker = { type: 'problem'; message: string } | { type: 'cosigned'; origin: string; size: number; witness: string };

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 30_000;

interface Witness {
  url: string;
  vkey: Vkey;
}

/** What one witness knows of one log. */
interface WitnessView {
  size: number;
  retryMs: number;
  timer: NodeJS.Timeout | undefined;
  busy: boolean;
  /** Stops submissions: the witness disagrees with this log (split view) in a way retries cannot fix. */
  stopped: boolean;
  /** The flush generation in which an attempt last finished (succeeded or failed). */
  tried: number;
}

interface LogState {
  latest: WireCheckpoint;
  /** Peaks by tree size, for consistency proofs from sizes a witness may report. */
  peaks: Map<number, Hash[]>;
  views: Map<Witness, WitnessView>;
  /** Cosignatures collected for the checkpoint of each size. */
  cosignatures: Map<number, Map<string, NoteSignature>>;
  written: number;
}

const data = workerData as WitnessWorkerData;
const witnesses: Witness[] = data.witnesses.map((w) => ({ url: w.url.replace(/\/+$/, ''), vkey: parseVkey(w.vkey) }));
const logs = new Map<string, LogState>();
let flushFlags: Int32Array[] = [];
/** Incremented by each flush: every witness behind gets one attempt before the flush settles. */
let generation = 0;

function post(message: FromWitnessWorker): void {
  parentPort?.postMessage(message);
}

parentPort?.on('message', (message: ToWitnessWorker) => {
  if (message.type === 'checkpoint') return accept(message.checkpoint, true);
  flushFlags.push(message.flag);
  generation++;
  // Witnesses waiting out a backoff are tried now: this may be the process's last chance.
  for (const log of logs.values())
    for (const [w, view] of log.views) {
      if (view.busy || view.stopped || view.size >= log.latest.size) continue;
      clearTimeout(view.timer);
      void submit(log, w, view);
    }
  settleFlushes();
});

/** Queues a log's newest checkpoint; `own` ones are written to `<log>.pending` first. */
function accept(checkpoint: WireCheckpoint, own: boolean): void {
  if (own) keepPending(checkpoint);
  let log = logs.get(checkpoint.origin);
  if (!log) {
    log = { latest: checkpoint, peaks: new Map([[0, []]]), views: new Map(), cosignatures: new Map(), written: -1 };
    for (const w of witnesses)
      log.views.set(w, { size: 0, retryMs: RETRY_MIN_MS, timer: undefined, busy: false, stopped: false, tried: 0 });
    logs.set(checkpoint.origin, log);
  }
  log.latest = checkpoint;
  // An adopted checkpoint comes without peaks: they are read back from disk when needed.
  if (checkpoint.peaks.length > 0 || checkpoint.size === 0)
    log.peaks.set(
      checkpoint.size,
      checkpoint.peaks.map((p) => Buffer.from(p, 'base64')),
    );
  for (const [w, view] of log.views) if (!view.busy && !view.timer) void submit(log, w, view);
}

function keepPending(checkpoint: WireCheckpoint): void {
  try {
    writePending(checkpoint);
  } catch (error) {
    post({ type: 'problem', message: `cannot queue checkpoint ${checkpoint.origin}: ${(error as Error).message}` });
  }
}

/** Every witness has cosigned the newest checkpoint (or stopped): nothing is pending any more. */
function dropPendingIfDone(log: LogState): void {
  for (const view of log.views.values()) if (!view.stopped && view.size < log.latest.size) return;
  removePending(log.latest);
}

for (const orphan of orphanedPending(data.journalDir, (message) => post({ type: 'problem', message }))) accept(orphan, false);

/** Idle: every witness is up to date, stopped, or has had its attempt since the last flush began. */
function idle(): boolean {
  for (const log of logs.values())
    for (const view of log.views.values())
      if (view.busy || (!view.stopped && view.size < log.latest.size && view.tried < generation)) return false;
  return true;
}

/** A flush waits for one attempt per witness; a witness that is down does not hold it up longer. */
function settleFlushes(): void {
  if (!idle()) return;
  for (const flag of flushFlags) {
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  }
  flushFlags = [];
}

async function submit(log: LogState, witness: Witness, view: WitnessView): Promise<void> {
  view.timer = undefined;
  const target = log.latest;
  if (view.stopped || view.size >= target.size) {
    dropPendingIfDone(log);
    return settleFlushes();
  }
  view.busy = true;
  try {
    const outcome = await attempt(log, witness, view, target).catch((error: unknown) => {
      post({
        type: 'problem',
        message: `witness submission to ${witness.url} failed: ${error instanceof Error ? error.message : String(error)}`,
      });
      return 'retry' as const;
    });
    if (outcome !== 'again') view.tried = generation;
    if (outcome === 'retry') {
      view.timer = setTimeout(() => void submit(log, witness, view), view.retryMs);
      view.retryMs = Math.min(view.retryMs * 2, RETRY_MAX_MS);
    } else {
      view.retryMs = RETRY_MIN_MS;
      if (outcome === 'again') setImmediate(() => void submit(log, witness, view));
    }
  } finally {
    view.busy = false;
    dropPendingIfDone(log);
    settleFlushes();
  }
}

async function attempt(log: LogState, witness: Witness, view: WitnessView, target: WireCheckpoint): Promise<'done' | 'again' | 'retry'> {
  const old = view.size;
  const peaks = log.peaks.get(old) ?? peaksFromDisk(target.segments, old);
  const later = readLeaves(target.segments, old, target.size);
  // The writer flushes on a timer: leaves not on disk yet are read on the next try.
  if (later.length < target.size - old) return 'retry';
  const proof = consistencyProofFromPeaks(old, peaks, later);
  let response: { status: number; body: string };
  try {
    response = await postText(`${witness.url}/add-checkpoint`, formatAddCheckpoint({ oldSize: old, proof, note: target.note }));
  } catch {
    return 'retry';
  }
  if (response.status === 200) {
    const cosignature = acceptCosignature(target.note, response.body, witness);
    if (!cosignature) {
      post({ type: 'problem', message: `witness ${witness.url} answered with no valid cosignature from ${witness.vkey.name}` });
      return 'retry';
    }
    view.size = target.size;
    keep(log, target, cosignature);
    post({ type: 'cosigned', origin: target.origin, size: target.size, witness: witness.vkey.name });
    return log.latest.size > view.size ? 'again' : 'done';
  }
  if (response.status === 409) {
    const size = parseSizeBody(response.body);
    if (size === undefined || size === old) return 'retry';
    if (size > log.latest.size) {
      splitView(
        view,
        witness,
        target,
        `it holds a checkpoint of size ${size} for this log, larger than any this process signed (${log.latest.size})`,
      );
      return 'done';
    }
    view.size = size;
    return 'again';
  }
  if (response.status === 422 && old > 0) {
    splitView(
      view,
      witness,
      target,
      `it rejects the consistency proof from size ${old}, the size it reported: its checkpoint of that size is not this log's`,
    );
    return 'done';
  }
  post({
    type: 'problem',
    message: `witness ${witness.url} refused checkpoint ${target.origin} size ${target.size}: HTTP ${response.status} ${response.body.trim().slice(0, 200)}`,
  });
  return 'retry';
}

function splitView(view: WitnessView, witness: Witness, target: WireCheckpoint, why: string): void {
  view.stopped = true;
  const log = logs.get(target.origin);
  if (log) dropPendingIfDone(log);
  post({ type: 'problem', message: `split view of log ${target.origin} at witness ${witness.url}: ${why}` });
}

function peaksFromDisk(segments: readonly string[], size: number): Hash[] {
  const tree = new MerkleAccumulator();
  for (const leaf of readLeaves(segments, 0, size)) tree.push(leaf);
  return tree.peaks();
}

function acceptCosignature(note: string, body: string, witness: Witness): NoteSignature | undefined {
  try {
    const cosigned = parseNote(note + body);
    if (checkCosignature(cosigned, witness.vkey).status !== 'valid') return undefined;
    return cosigned.signatures.find((s) => s.name === witness.vkey.name && s.keyId.equals(witness.vkey.keyId));
  } catch {
    return undefined;
  }
}

/** Keeps the newest cosigned checkpoint of the log with every cosignature collected for it. */
function keep(log: LogState, target: WireCheckpoint, cosignature: NoteSignature): void {
  let collected = log.cosignatures.get(target.size);
  if (!collected) log.cosignatures.set(target.size, (collected = new Map<string, NoteSignature>()));
  collected.set(cosignature.name, cosignature);
  if (target.size < log.written || target.segments.length === 0) return;
  try {
    writeCosigned(target, collected, witnesses);
    log.written = target.size;
    for (const size of log.cosignatures.keys()) if (size < target.size) log.cosignatures.delete(size);
  } catch (error) {
    post({ type: 'problem', message: `cannot keep the cosigned checkpoint of ${target.origin}: ${(error as Error).message}` });
  }
}
