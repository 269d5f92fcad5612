/**
 * Noticing other connections' commits, so the store's cache never answers with what another
 * process changed since. SQLite's `PRAGMA data_version` changes when another connection commits;
 * asking costs 2–8 µs (it takes SQLite's read lock), so it is not asked per answer: at most once
 * per millisecond, looked at on the first cached answer of each macrotask and every few hundred
 * within one. A reader therefore sees another process's commit from about a millisecond after
 * it on (a process learns of another's write through some I/O, which arrives in a new macrotask).
 */

/** Other processes' commits are looked for at most this often… */
const INTERVAL_MS = 1;
/** …and, within one long synchronous stretch, every this many cached answers. */
const ANSWERS_PER_CHECK = 256;

export class OtherWriters {
  private version = -1;
  private checkedThisTask = false;
  private answersUntilCheck = 0;
  private nextCheck = 0;
  private readonly endOfTask = (): void => {
    this.checkedThisTask = false;
  };

  /** `dataVersion()`: the connection's `PRAGMA data_version`; `changed()`: forget every cached answer. */
  constructor(
    private readonly dataVersion: () => number,
    private readonly changed: () => void,
  ) {}

  /** Before a cached answer is given: look now and then. */
  beforeCachedAnswer(): void {
    if (this.checkedThisTask && --this.answersUntilCheck >= 0) return;
    if (!this.checkedThisTask) {
      this.checkedThisTask = true;
      queueMicrotask(this.endOfTask);
    }
    this.answersUntilCheck = ANSWERS_PER_CHECK;
    const now = performance.now();
    if (now < this.nextCheck) return;
    this.nextCheck = now + INTERVAL_MS;
    this.notice();
  }

  /** Look now (before a write decides on what it read). */
  notice(): void {
    const version = this.dataVersion();
    if (version !== this.version) {
      this.version = version;
      this.changed();
    }
  }

  /** A new connection: its versions start afresh. */
  reset(): void {
    this.version = -1;
  }
}
