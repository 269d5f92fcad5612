/**
 * What an evidence report states, gathered from the journals of a period: verification of
 * every segment (with the SHA-256 of each file, so an auditor can pin what was verified), flows
 * by tag and destination, every denial and audit-mode violation, revocations and their effect,
 * and digests of the policy files the operator names.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { JournalRecord } from '../journal/format.js';
import { flowSummary, type FlowSummary } from '../journal/flows.js';
import { queryRecords, type TimeWindow } from '../journal/query.js';
import { verifyJournal, type HeldCheckpoint, type VerifyReport } from '../journal/verify.js';

export interface PolicyDigest {
  file: string;
  sha256: string;
}

export interface Evidence {
  /** When the report was made (ISO). */
  generated: string;
  since: string | null;
  until: string | null;
  stateDirs: string[];
  verify: VerifyReport;
  /** SHA-256 (hex) of each segment file as read, by path. */
  segmentDigests: Record<string, string>;
  witnesses: number;
  /** The pinned log key (raw Ed25519, base64), when one was given. */
  publicKey: string | null;
  flows: FlowSummary;
  denials: JournalRecord[];
  violations: JournalRecord[];
  /** Denials by the `revoked` rule: what a revocation stopped. */
  revocations: JournalRecord[];
  policies: PolicyDigest[];
}

export interface EvidenceOptions {
  stateDirs: string[];
  window: TimeWindow;
  now: Date;
  policyFiles: string[];
  publicKey?: Buffer | undefined;
  /** Checkpoints held elsewhere (witnesses, exported spans) the journals must still match. */
  held?: readonly HeldCheckpoint[] | undefined;
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export function gatherEvidence(options: EvidenceOptions): Evidence {
  const { stateDirs, window } = options;
  const verify = verifyJournal(stateDirs, { publicKey: options.publicKey, held: options.held });
  const all = (decision: string): JournalRecord[] =>
    queryRecords(stateDirs, { ...window, decision }, Number.MAX_SAFE_INTEGER, 1).records.reverse();
  const denials = all('deny');
  return {
    generated: options.now.toISOString(),
    since: window.since === undefined ? null : new Date(window.since).toISOString(),
    until: window.until === undefined ? null : new Date(window.until).toISOString(),
    stateDirs,
    verify,
    segmentDigests: Object.fromEntries(verify.segments.map((s) => [s.path, sha256(s.path)])),
    witnesses: options.held?.length ?? 0,
    publicKey: options.publicKey?.toString('base64') ?? null,
    flows: flowSummary(stateDirs, window),
    denials,
    violations: all('violation'),
    revocations: denials.filter((d) => d.rule === 'revoked'),
    policies: options.policyFiles.map((file) => ({ file, sha256: sha256(file) })),
  };
}
