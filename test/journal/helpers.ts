// Shared pieces of the journal tests: a config, flow events, keys and segment file access.
import { generateKeyPairSync } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { JournalConfig } from '../../src/config/types.js';
import type { FlowRecord } from '../../src/engine/flow-record.js';
import { recordLine, splitRecordLine } from '../../src/journal/format.js';
import { leafHash } from '../../src/journal/merkle.js';
import type { VerifyReport } from '../../src/journal/verify.js';

export const fixtures = path.join(__dirname, 'fixtures');

export function journalConfig(overrides: Partial<JournalConfig> = {}): JournalConfig {
  return {
    enabled: true,
    contentHash: 'sha256',
    pseudonymize: false,
    sync: 'batch',
    flushIntervalMs: 100,
    checkpointEvery: 5,
    checkpointIntervalMs: 60_000,
    segmentMaxBytes: 16 * 1024 * 1024,
    repeatWindowMs: 0,
    witnesses: [],
    witnessQuorum: 1,
    ...overrides,
  };
}

export function flowEvent(i: number, overrides: Partial<FlowRecord> = {}): FlowRecord {
  return {
    time: Date.UTC(2026, 10, 1, 12, 0, 0) + i * 1000,
    op: 'write',
    resource: `file://n1/srv/out/${i}.json`,
    sources: ['file://n1/srv/data/patients/42.json'],
    labels: { confidentiality: 'secret', integrity: 'high', tags: ['pii'], locations: ['eu-west-1'] },
    decision: 'allow',
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    ...overrides,
  };
}

export interface KeyPair {
  privatePem: string;
  publicPem: string;
}

export function ed25519(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

export function segmentFiles(stateDir: string): string[] {
  return readdirSync(path.join(stateDir, 'journal'))
    .filter((name) => name.endsWith('.jsonl'))
    .sort()
    .map((name) => path.join(stateDir, 'journal', name));
}

/** Lines of a segment without the final newline's empty string. */
export function readLines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').slice(0, -1);
}

export function writeLines(file: string, lines: string[]): void {
  writeFileSync(file, lines.map((line) => line + '\n').join(''));
}

/** Index of the line holding record `seq` in a segment. */
export function lineOfSeq(lines: string[], seq: number): number {
  const at = lines.findIndex((line) => line.startsWith(`{"seq":${seq},`));
  if (at < 0) throw new Error(`no record ${seq}`);
  return at;
}

/** The first failure of a report that must have failed. */
export function failure(report: VerifyReport): { file: string; seq: number | null; message: string } {
  expect(report.ok).toBe(false);
  return report.failures[0];
}

/** Rewrites a segment's lines in place. */
export function edit(file: string, change: (lines: string[]) => void): void {
  const lines = readLines(file);
  change(lines);
  writeLines(file, lines);
}

/** Re-hashes a changed line so only the Merkle root and checkpoints can tell. */
export function rehash(line: string): string {
  const canonical = splitRecordLine(line)!.canonical;
  return recordLine(canonical, leafHash(canonical).toString('hex'));
}
