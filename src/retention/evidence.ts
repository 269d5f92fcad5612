/**
 * The evidence of a retention pass, per log it pruned: which segments went, how many bytes, the
 * last seq they held and the checkpoint that closed them (signed when the log is). Kept twice: as
 * a record of the pruning process's own log (its checkpoints, witnesses and exports cover it), and
 * as a line of `<state>/retention/pruned.jsonl`, which retention never deletes, because a later
 * pass may delete the segment that holds the record.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ProvenantConfig } from '../config/types.js';
import type { FlowRecord } from '../engine/flow-record.js';
import { PRUNED_FILE, type PruneEvidence } from '../journal/pruned-prefix.js';
import type { PrunedLog, PruneResult } from './prune.js';

/** The record's `action`. */
export const PRUNED_ACTION = 'provenant.journal.pruned';

export function prunedRecord(pruned: PrunedLog, result: PruneResult, stateDir: string, config: ProvenantConfig): FlowRecord {
  const attributes: Record<string, string | number | boolean> = {
    'provenant.pruned.log': pruned.log,
    'provenant.pruned.first_segment': pruned.firstSegment,
    'provenant.pruned.last_segment': pruned.lastSegment,
    'provenant.pruned.segments': pruned.segments,
    'provenant.pruned.bytes': pruned.bytes,
    'provenant.pruned.through_seq': pruned.throughSeq,
    'provenant.pruned.whole_log': pruned.whole,
    'provenant.pruned.reason': pruned.reason,
    'provenant.pruned.dir_bytes_before': result.before,
    'provenant.pruned.dir_bytes_after': result.after,
  };
  if (pruned.checkpoint !== undefined) attributes['provenant.pruned.checkpoint'] = pruned.checkpoint;
  return {
    time: Date.now(),
    op: 'record',
    resource: `file://${config.node}${join(stateDir, 'journal')}`,
    sources: [],
    // Derived from nothing: the neutral labels (lowest confidentiality, highest integrity).
    labels: {
      confidentiality: config.levels.confidentiality[0],
      integrity: config.levels.integrity[config.levels.integrity.length - 1],
      tags: [],
      locations: [],
    },
    decision: 'allow',
    action: PRUNED_ACTION,
    attributes,
  };
}

/** Appends one line per pruned log to `<state>/retention/pruned.jsonl` (what `verify` checks a pruned prefix against). */
export function appendPrunedFile(stateDir: string, result: PruneResult, origin: string | undefined): void {
  const path = join(stateDir, PRUNED_FILE);
  mkdirSync(dirname(path), { recursive: true });
  const time = new Date().toISOString();
  const lines = result.pruned.map((pruned) => {
    const line: PruneEvidence = { time, by: origin ?? null, pid: process.pid, ...pruned };
    return JSON.stringify(line) + '\n';
  });
  appendFileSync(path, lines.join(''));
}
