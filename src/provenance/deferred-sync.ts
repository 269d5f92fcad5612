/**
 * Commits that do not wait for the disk, nor happen on the caller's thread. An asynchronous fs
 * API (a promise or callback) must not block the caller on SQLite or an fsync, yet its file's
 * provenance must be durable before the call moves a byte. Inside `defer`, the store leaves its
 * merges pending (pending-merges.ts) and says so (`pending`); `durable()` then commits them all
 * in one transaction once the caller's synchronous run is over (`commitPending`, in the WAL: it
 * survives the process being killed, and every other process sees it) and fsyncs the WAL on
 * libuv's pool; the call waits for both. Calls made in one synchronous run, or while a sync is in
 * flight, share the next commit and sync (group commit). Outside `defer` every commit is synced
 * before it returns, as `synchronous = FULL` would do: synchronous APIs keep their semantics.
 */
import { fdatasync, fdatasyncSync } from 'node:fs';
import { ReentrancyGuard } from '../support/reentrancy.js';

export class DeferredSync {
  private readonly guard = new ReentrancyGuard();
  /** Commits made, or merges left pending, since the last sync started. */
  private dirty = false;
  private inFlight: Promise<void> | undefined;
  /** The sync that starts once `inFlight` ends, covering every commit made before it starts. */
  private queued: Promise<void> | undefined;

  /**
   * `target()`: the descriptor to fsync (the WAL), or undefined when commits are synced by SQLite
   * itself. `commitPending()`: commits what `defer` left pending (throws when it cannot).
   */
  constructor(
    private readonly target: () => number | undefined,
    private readonly commitPending: () => void,
  ) {}

  /** True inside `defer`. */
  get deferring(): boolean {
    return this.guard.active;
  }

  defer<T>(fn: () => T): T {
    return this.guard.run(fn);
  }

  /** Inside `defer`: a change waits for `commitPending`, which the next `durable()` makes. */
  pending(): void {
    this.dirty = true;
  }

  /** A commit changed the database: sync it now (`syncNow`), or leave it to `durable()` inside `defer`. */
  committed(syncNow: () => void): void {
    if (this.guard.active) {
      this.dirty = true;
      return;
    }
    syncNow();
    // Every commit so far is on disk now (the store commits what is pending before it changes anything).
    this.dirty = false;
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
    const queued: Promise<void> = (this.inFlight ?? Promise.resolve()).then(
      () => this.start(queued),
      () => this.start(queued),
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

  /**
   * `queued` is the promise callers of `durable()` hold: it stays the one in flight, so a call
   * made while it syncs waits on that same promise and runs after them, in call order.
   */
  private start(queued: Promise<void>): Promise<void> {
    this.queued = undefined;
    let sync: Promise<void>;
    try {
      // Unsynced: the fsync below covers them. When it throws, `dirty` stays set for the next try.
      this.guard.run(this.commitPending);
      this.dirty = false;
      const fd = this.target();
      sync =
        fd === undefined
          ? Promise.resolve()
          : new Promise<void>((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));
    } catch (error) {
      sync = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    this.inFlight = queued;
    const done = (): void => {
      if (this.inFlight === queued) this.inFlight = undefined;
    };
    // Cleared when the fsync ends, so whoever awaited `queued` finds nothing in flight.
    sync.then(done, done);
    return sync;
  }
}
