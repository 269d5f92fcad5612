/**
 * When retention runs: after a segment rotates (the dir just grew by a closed segment), at start,
 * and at checkpoints at most once per PERIODIC_MS (segments age, and other processes write to
 * the same dir). Always on a later turn of the event loop, never inside the flow that rotated.
 * Retention is recording, so it fails open: an error is a diag warning and the app goes on.
 */
import { diag } from '@opentelemetry/api';
import type { RetentionConfig } from '../config/types.js';
import { internally } from '../support/reentrancy.js';
import { appendPrunedFile } from './evidence.js';
import type { GuardOptions } from './guards.js';
import { pruneJournal, type PruneResult } from './prune.js';

const PERIODIC_MS = 60_000;

export interface RetentionOptions {
  stateDir: string;
  retention: RetentionConfig;
  guards: GuardOptions;
  /** The pruning process's log origin, named in the evidence file. */
  origin: () => string | undefined;
  /** Called with every pass that deleted something: the caller journals it. Must not throw. */
  onPruned: (result: PruneResult) => void;
}

export class JournalRetention {
  private queued: NodeJS.Immediate | undefined;
  private lastRun = -Infinity;

  constructor(private readonly options: RetentionOptions) {}

  /** A pass on the next turn of the event loop (one, however often it is asked for meanwhile). */
  schedule(): void {
    if (this.queued) return;
    this.queued = setImmediate(() => {
      this.queued = undefined;
      this.run();
    });
    this.queued.unref();
  }

  /** A pass when none ran for PERIODIC_MS. */
  periodic(): void {
    if (Date.now() - this.lastRun >= PERIODIC_MS) this.schedule();
  }

  private run(): void {
    this.lastRun = Date.now();
    try {
      const result = internally(() => pruneJournal(this.options.stateDir, this.options.retention, this.options.guards, Date.now()));
      for (const problem of result.problems) diag.warn(`provenant: journal retention: ${problem}`);
      if (result.pruned.length === 0) return;
      internally(() => appendPrunedFile(this.options.stateDir, result, this.options.origin()));
      this.options.onPruned(result);
    } catch (error) {
      diag.warn(
        `provenant: journal retention failed; nothing more is deleted this time: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}
