/**
 * What keeps a closed segment from being deleted although retention would: records an export has
 * not delivered yet, and checkpoints a witness has not cosigned yet. Each guard reads the
 * exporter's own durable cursor, so it holds across restarts and for other processes' logs.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadState, statePath, LOG_EXPORTER, type OutboxState } from '../export/outbox.js';
import { findCursor } from '../openlineage/cursor.js';
import type { SegmentEnd, SegmentInfo } from './segments.js';

export interface GuardOptions {
  stateDir: string;
  /** This process exports the journal as OTLP logs: with no cursor file yet, nothing was delivered. */
  logExport: boolean;
  /** This process sends OpenLineage events for its service's logs. */
  openlineage: boolean;
  /** File-name prefix of this process's service (`<service>-`): the logs its OpenLineage export sends. */
  servicePrefix: string;
}

export class Guards {
  private readonly logState: OutboxState | undefined;

  constructor(private readonly options: GuardOptions) {
    const path = statePath(options.stateDir, LOG_EXPORTER);
    this.logState = options.logExport || existsSync(path) ? loadState(path) : undefined;
  }

  /** Why `segment` must stay, or undefined when nothing needs it any more. */
  reason(segment: SegmentInfo, end: SegmentEnd): string | undefined {
    if (existsSync(join(this.options.stateDir, 'journal', `${segment.prefix}.pending`)))
      return 'a witness has not cosigned the log yet (<log>.pending)';
    // The OTLP log export's own max-lag rule moves its cursor past segments it skips: those count as passed.
    if (this.logState && (this.logState.cursors[segment.name]?.offset ?? 0) < segment.size)
      return 'the OTLP log export has not delivered it yet';
    const cursor = findCursor(this.options.stateDir, segment.prefix);
    const exported = cursor?.done === true ? Infinity : (cursor?.exported ?? 0);
    const exports = cursor !== undefined || (this.options.openlineage && segment.prefix.startsWith(this.options.servicePrefix));
    if (exports && exported < end.lastSeq) return 'the OpenLineage export has not delivered its records yet';
    return undefined;
  }
}
