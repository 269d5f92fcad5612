/**
 * Verification of journal logs. A log is the segments one process wrote under one origin, read in
 * index order into one Merkle tree: records carry contiguous seq numbers and hashes equal to the
 * leaf hash of their bytes; every checkpoint is a C2SP note of exactly the records before it, signed
 * by the key in the header; a segment ends in a rotation checkpoint before the next one starts.
 * Checkpoints held elsewhere (witness files, cosigned copies) must be signed by the log key and
 * match the tree at their size. What this proves depends on what the caller pins (README "Trust
 * model"): in strict mode (a pinned key or a witness quorum) records no signed checkpoint covers
 * are failures, not warnings.
 */
import { statSync } from 'node:fs';
import { LogVerifier } from './log-verifier.js';
import { PRUNED_FILE, readPruneEvidence } from './pruned-prefix.js';
import { listSegments, type SegmentRef } from './read.js';
import type { HeldCheckpoint, LogReport, Problem, SegmentReport, VerifyOptions, VerifyReport } from './verify-report.js';

export type { HeldCheckpoint, LogReport, Problem, SegmentReport, SegmentStatus, VerifyOptions, VerifyReport } from './verify-report.js';

export function verifyJournal(stateDirs: readonly string[], options: VerifyOptions = {}): VerifyReport {
  const failures: Problem[] = [];
  const warnings: Problem[] = [];
  const notes: Problem[] = [];
  const refs: SegmentRef[] = [];
  for (const dir of stateDirs) {
    const missing = stateDirProblem(dir);
    if (missing) {
      failures.push({ file: dir, seq: null, message: missing });
      continue;
    }
    const found = listSegments([dir]);
    if (found.length === 0)
      failures.push({
        file: dir,
        seq: null,
        message: 'no journal segments: nothing here to verify (wrong --state, or the journal was deleted)',
      });
    refs.push(...found);
  }
  const held = new Map<string, HeldCheckpoint[]>();
  for (const h of options.held ?? []) held.set(h.body.origin, [...(held.get(h.body.origin) ?? []), h]);
  const byLog = new Map<string, SegmentRef[]>();
  for (const ref of refs) {
    const key = `${ref.stateDir}\u0000${ref.name.replace(/-\d+\.jsonl$/, '')}`;
    byLog.set(key, [...(byLog.get(key) ?? []), ref]);
  }
  const segments: SegmentReport[] = [];
  const logs: LogReport[] = [];
  const evidence = new Map(stateDirs.map((dir) => [dir, readPruneEvidence(dir)]));
  const strict = options.publicKey !== undefined || options.witnesses !== undefined;
  for (const chain of byLog.values()) {
    const verifier = new LogVerifier(chain, options, strict, held, failures, warnings, notes, evidence.get(chain[0].stateDir) ?? []);
    const result = verifier.run();
    segments.push(...result.segments);
    if (result.log) logs.push(result.log);
  }
  const prunedWhole = [...evidence.values()].flat().filter((e) => e.whole && typeof e.checkpoint === 'string');
  for (const [origin, checkpoints] of held) {
    const largest = Math.max(...checkpoints.map((c) => c.body.size));
    // A log retention deleted whole, after every record a witness saw: what retention is for.
    const pruned = prunedWhole.find((e) => e.checkpoint?.startsWith(`${origin}\n`) === true && e.throughSeq >= largest);
    if (pruned)
      notes.push({
        file: origin,
        seq: null,
        message: `log deleted whole by journal.retention at ${pruned.time} through seq ${pruned.throughSeq} (${PRUNED_FILE}); ${checkpoints[0].source} holds its checkpoint of size ${largest}, which can no longer be checked`,
      });
    else
      failures.push({
        file: origin,
        seq: null,
        message: `log is missing: ${checkpoints[0].source} holds its checkpoint of size ${largest}`,
      });
  }
  return { ok: failures.length === 0, segments, logs, records: segments.reduce((n, s) => n + s.records, 0), failures, warnings, notes };
}

function stateDirProblem(dir: string): string | undefined {
  try {
    return statSync(dir).isDirectory() ? undefined : 'state dir is not a directory';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'state dir does not exist' : `state dir is unreadable (${code ?? String(error)})`;
  }
}
