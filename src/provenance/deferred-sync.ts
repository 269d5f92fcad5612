/**
 * Commits that do not wait for the disk. An asynchronous fs API (a promise or callback) must not
 * block the event loop on an fsync, yet its file's provenance must be durable before the call
 * completes. Inside `defer`, the store commits without syncing (the commit is in SQLite's WAL
 * already: it survives the process being killed, and every other process sees it); `durable()`
 * is the fsync of the WAL on libuv's pool that the call waits for before it moves a byte. Calls
 * made in one synchronous run, or while a sync is in flight, share the next one (group commit). Outside `defer` every commit
 * is synced before it returns, as `synchronous = FULL` would do: synchronous APIs keep their
 * semantics.
 */
import { fdatasync, fdatasyncSync } from 'node:fs';
import { ReentrancyGuard } from '../support/reentrancy.js';

export class DeferredSync {
  private readonly deferring = new ReentrancyGuard();
  /** Commits made since the last sync started. */
  private dirty = false;
  private inFlight: Promise<void> | undefined;
  /** The sync that starts once `inFlight` ends, covering every commit made before it starts. */
  private queued: Promise<void> | undefined;

  /** `target()`: the descriptor to fsync (the WAL), or undefined when commits are synced by SQLite itself. */
  constructor(private readonly target: () => number | undefined) {}

  defer<T>(fn: () => T): T {
    return this.deferring.run(fn);
  }

  /** A commit changed the database: sync it now (`syncNow`), or leave it to `durable()` inside `defer`. */
  committed(syncNow: () => void): void {
    if (this.deferring.active) this.dirty = true;
    else syncNow();
  }

  /**
   * Settles once every commit made so far is on disk (rejects when the fsync fails); undefined
   * when nothing is waiting for the disk. A sync in flight counts: the commit a repeated write
   * relies on may be the one it covers.
   */
  durable(): Promise<void> | undefined {
    if (!this.dirty) return this.queued ?? this.inFlight;
    if (this.queued !== undefined) return this.queued;
    // Started once the caller's synchronous run is over (or the sync in flight ends), so every
    // asynchronous write of that run shares one fsync.
    const queued = (this.inFlight ?? Promise.resolve()).then(
      () => this.start(),
      () => this.start(),
    );
    this.queued = queued;
    return queued;
  }

  /**
   * Every commit made so far on disk now, on this thread (throws when it cannot be): for a
   * synchronous call that must not overtake asynchronous writes still waiting for `durable()`.
   */
  settleNow(): void {
    if (!this.dirty && this.queued === undefined && this.inFlight === undefined) return;
    const fd = this.target();
    if (fd !== undefined) fdatasyncSync(fd);
    this.dirty = false;
  }

  private start(): Promise<void> {
    this.queued = undefined;
    this.dirty = false;
    let sync: Promise<void>;
    try {
      const fd = this.target();
      sync =
        fd === undefined
          ? Promise.resolve()
          : new Promise<void>((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));
    } catch (error) {
      sync = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    this.inFlight = sync;
    const done = (): void => {
      if (this.inFlight === sync) this.inFlight = undefined;
    };
    sync.then(done, done);
    return sync;
  }
}
