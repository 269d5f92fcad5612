/**
 * Span processor that batches finished spans to provenant's export thread. `flushSync` blocks the
 * calling thread (bounded) until the thread has exported everything: usable from process
 * 'exit', where no asynchronous work can run. It counts what never reached the collector, so
 * a lost export can be reported. Spans come from the SDK (`onEnd`) or, when provenant makes them
 * without it, ready in their wire form (`add`).
 */
import { diag } from '@opentelemetry/api';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';
import type { ExportStatus } from './export-status.js';
import { toWireSpan, type ToWorker, type WireSpan } from './wire-span.js';

const BATCH_DELAY_MS = 200;
const MAX_BATCH = 512;
/** Spans not yet confirmed (batched here or exporting); beyond this a slow collector costs spans, not memory. */
const MAX_QUEUED = 8192;
/** How long `forceFlush` (the API's shutdown) waits for the thread, start-up included. */
const FORCE_FLUSH_TIMEOUT_MS = 10_000;

/**
 * What an exit may cost: the exporter's start-up (only when the app exits before the thread has
 * loaded it) and the export itself are bounded separately, so a slow start-up on a busy machine
 * does not eat the time the export needs.
 */
export interface ExitFlushBudget {
  startMs: number;
  exportMs: number;
}

/** The export thread as this processor sees it (export/export-thread.ts). */
export interface SpanExportPort {
  /** Throws when the message cannot be handed over. */
  post(message: ToWorker): void;
  /** `listener` hears why spans can no longer be exported (the thread died, no exporter loads). */
  onBroken(listener: (reason: string) => void): void;
}

export class WorkerSpanProcessor implements SpanProcessor {
  private pending: WireSpan[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Spans posted to the thread. */
  private handed = 0;
  /** Spans dropped because MAX_QUEUED were already waiting. */
  private dropped = 0;
  private brokenReason: string | undefined;
  /** Why the last flush ended before the collector confirmed everything. */
  private unconfirmedReason: string | undefined;

  /** `status`: the cells the thread's span export was given. */
  constructor(
    private readonly port: SpanExportPort,
    private readonly status: ExportStatus,
  ) {
    port.onBroken((reason) => (this.brokenReason ??= reason));
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    this.add(toWireSpan(span));
  }

  /** A finished, sampled span in its wire form. */
  add(span: WireSpan): void {
    if (this.closed) return;
    if (this.pending.length + this.unsettled() >= MAX_QUEUED) {
      this.dropped++;
      return;
    }
    this.pending.push(span);
    if (this.pending.length >= MAX_BATCH) this.send();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.send(), BATCH_DELAY_MS);
      this.timer.unref();
    }
  }

  /** Block until the thread has exported everything sent so far, within `budget`. */
  flushSync(budget: ExitFlushBudget): void {
    this.send();
    if (this.unsettled() === 0 || this.brokenReason !== undefined) return;
    const state = this.status.waitWhileStarting(budget.startMs);
    if (state === 'starting') {
      this.unconfirmedReason = `the span exporter had not started within ${budget.startMs} ms of exit`;
      return;
    }
    if (state === 'broken') return;
    const flag = new Int32Array(new SharedArrayBuffer(4));
    this.post({ type: 'flush', flag });
    if (Atomics.wait(flag, 0, 0, budget.exportMs) === 'timed-out') {
      this.unconfirmedReason = `the collector had not confirmed them within ${budget.exportMs} ms of exit`;
    }
  }

  async forceFlush(): Promise<void> {
    this.send();
    if (this.unsettled() === 0) return;
    const flag = new Int32Array(new SharedArrayBuffer(4));
    this.post({ type: 'flush', flag });
    const { async, value } = Atomics.waitAsync(flag, 0, 0, FORCE_FLUSH_TIMEOUT_MS);
    if ((async ? await value : value) === 'timed-out') {
      this.unconfirmedReason = `the collector had not confirmed them within ${FORCE_FLUSH_TIMEOUT_MS} ms of shutdown`;
    }
  }

  /** Flushes and takes no more spans; the thread itself is closed by its owner. */
  async shutdown(): Promise<void> {
    await this.forceFlush();
    this.closed = true;
  }

  /** How many spans never reached the collector and why, as one sentence; undefined when none. */
  lossReport(): string | undefined {
    const exported = this.status.exported;
    const failed = this.status.failed;
    const unconfirmed = this.unsettled();
    const lost = this.dropped + failed + unconfirmed;
    if (lost === 0) return undefined;
    const reasons: string[] = [];
    if (this.dropped > 0) reasons.push(`${this.dropped} dropped because the export queue was full`);
    const brokenReason = this.brokenReason ?? (this.status.state === 'broken' ? 'no exporter could be loaded' : undefined);
    if (brokenReason !== undefined && failed + unconfirmed > 0) {
      reasons.push(`${failed + unconfirmed} because the export worker failed (${brokenReason})`);
    } else {
      if (failed > 0) reasons.push(`${failed} refused by the collector or not delivered to it`);
      if (unconfirmed > 0) reasons.push(`${unconfirmed} because ${this.unconfirmedReason ?? 'their export had not finished'}`);
    }
    return `${lost} of ${lost + exported} spans were not exported: ${reasons.join('; ')}`;
  }

  /** Spans handed to the thread that the collector has neither confirmed nor refused yet. */
  private unsettled(): number {
    return this.handed - this.status.exported - this.status.failed;
  }

  private send(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.length === 0) return;
    const spans = this.pending;
    this.pending = [];
    this.handed += spans.length;
    this.post({ type: 'spans', spans });
  }

  private post(message: ToWorker): void {
    try {
      this.port.post(message);
    } catch (error) {
      this.brokenReason ??= `could not hand spans to it: ${error instanceof Error ? error.message : String(error)}`;
      diag.warn('provenant: could not hand spans to the export thread', error);
    }
  }
}
