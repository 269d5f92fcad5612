// Shared pieces of the journal tests: a config, flow events, keys and segment file access.
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { JournalConfig } from '../../src/config/types.js';
import { FLOW_RECORD_FIELDS, type FlowRecord } from '../../src/engine/flow-record.js';
import { forEachRecord } from '../../src/journal/decode.js';
import { loadSigningKey } from '../../src/journal/keys.js';
import { openJournal } from '../../src/journal/writer.js';
import { recordLine, splitRecordLine, type JournalRecord } from '../../src/journal/format.js';
import { leafHash } from '../../src/journal/merkle.js';
import type { VerifyReport } from '../../src/journal/verify.js';
import { runNode } from '../helpers/spawn.js';
import { tempDir } from '../helpers/tmp.js';

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
  return recordLine(canonical, leafHash(canonical));
}

/** A copy, in a fresh state dir, of a fixture journal an earlier release wrote (its journal and policies dirs). */
export function fixtureState(fixture: string): string {
  const state = path.join(tempDir('provenant-fixture-state-'), 'state');
  for (const dir of ['journal', 'policies']) cpSync(path.join(fixture, dir), path.join(state, dir), { recursive: true });
  return state;
}

/**
 * Runs fixtures/`app` under today's preload in a fresh work dir holding `files` (path → content)
 * and the provenant.yaml of `fixture`, the way that fixture's journal was written.
 */
export async function appState(app: string, fixture: string, files: Record<string, string>): Promise<{ state: string; work: string }> {
  const work = tempDir('provenant-app-state-');
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(work, name)), { recursive: true });
    writeFileSync(path.join(work, name), content);
  }
  writeFileSync(path.join(work, 'provenant.yaml'), readFileSync(path.join(fixture, 'provenant.yaml')));
  const state = path.join(work, 'state');
  const run = await runNode({
    args: [path.join(fixtures, app)],
    preload: 'require',
    env: { WORK_DIR: work, PROVENANT_CONFIG: path.join(work, 'provenant.yaml'), PROVENANT_STATE_DIR: state },
  });
  expect(run.code, run.stderr).toBe(0);
  return { state, work };
}

/** Every record of the state dirs, resolved, as the CLI reads them. */
export function readRecords(stateDirs: string[]): JournalRecord[] {
  const found: JournalRecord[] = [];
  forEachRecord(stateDirs, (record) => found.push(record));
  return found;
}

/** Removes a segment's checkpoint lines: records are then hash-checked only, so definitions are checked on their own. */
export const withoutCheckpoints = (lines: string[]): void =>
  void lines.splice(0, lines.length, ...lines.filter((line) => !line.startsWith('{"type":"checkpoint"')));

/** Request i of a server: a read from the caller and the response to it, each with its own ids, user and path. */
export function requestFlows(i: number): FlowRecord[] {
  const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');
  const common = {
    resource: 'service://frontend',
    sources: ['service://frontend'],
    labels: { confidentiality: 'internal' as const, integrity: 'high' as const, tags: [], locations: ['eu-west-1'] },
    policy: 'sha256:6a00c513fd6cabf1387068c9a65c9fc0f92f02c05b3f991b48d0eb80033007eb',
    user: `user-${i}`,
    traceId: hex(i, 32),
  };
  const attributes = {
    'network.peer.address': '127.0.0.1',
    'network.peer.port': 40_000 + (i % 3),
    'http.request.method': 'GET',
    'url.path': `/users/${i}`,
  };
  return [
    flowEvent(i, { ...common, op: 'read', decision: undefined, spanId: hex(2 * i, 16), attributes }),
    flowEvent(i, { ...common, op: 'write', spanId: hex(2 * i + 1, 16), bytes: 212, attributes }),
  ];
}

/** A journal of `events` by one writer (service frontend, node n1, pid 9), closed; its dir and segment files. */
export function journalOf(
  events: FlowRecord[],
  overrides: Parameters<typeof journalConfig>[0] = {},
  signingKey?: string,
): { dir: string; files: string[] } {
  const dir = tempDir('provenant-flows-');
  const writer = openJournal({
    stateDir: dir,
    config: journalConfig({ checkpointEvery: 1000, ...overrides }),
    service: 'frontend',
    node: 'n1',
    pid: 9,
    ...(signingKey === undefined ? {} : { signingKey: loadSigningKey(signingKey) }),
  });
  for (const event of events) writer.append(event);
  writer.close();
  expect(writer.lostRecords).toBe(0);
  return { dir, files: segmentFiles(dir) };
}

/** The record a reader must give for `event`: its fields in record order after the envelope. */
export function expectRecordOf(record: JournalRecord, event: FlowRecord): void {
  const { seq, time, service, node, pid, hash, ...fields } = record;
  expect({ time, service, node, pid }).toEqual({ time: new Date(event.time).toISOString(), service: 'frontend', node: 'n1', pid: 9 });
  expect(seq).toBeGreaterThan(0);
  expect(hash).toMatch(/^[0-9a-f]{64}$/);
  const { time: _time, ...eventFields } = event;
  expect(fields).toEqual(Object.fromEntries(Object.entries(eventFields).filter(([, value]) => value !== undefined)));
  expect(Object.keys(record)).toEqual([
    'seq',
    'time',
    'service',
    'node',
    'pid',
    ...FLOW_RECORD_FIELDS.filter((field) => event[field] !== undefined),
    'hash',
  ]);
}
