/**
 * In-process flow subscribers. Delivery is asynchronous and bounded so a slow or throwing
 * listener can never block or break the I/O that produced the event.
 */
import { diag } from '@opentelemetry/api';
import type { FlowRecord, FlowListener } from './flow-record.js';

const MAX_QUEUED = 10_000;

export class Subscribers {
  private readonly listeners = new Set<FlowListener>();
  private queue: FlowRecord[] = [];
  private scheduled = false;
  /** Events dropped because listeners fell behind by more than MAX_QUEUED. */
  dropped = 0;

  get active(): boolean {
    return this.listeners.size > 0;
  }

  subscribe(listener: FlowListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(event: FlowRecord): void {
    if (this.listeners.size === 0) return;
    if (this.queue.length >= MAX_QUEUED) {
      this.dropped++;
      return;
    }
    this.queue.push(event);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.deliver()).unref();
    }
  }

  /** Deliver what is queued now (also used at shutdown). */
  deliver(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    for (const event of batch) {
      for (const listener of this.listeners) {
        try {
          listener(event);
        } catch (error) {
          diag.warn('provenant: a flow subscriber threw; it keeps receiving events', error);
        }
      }
    }
  }
}
