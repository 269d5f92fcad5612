// Shared setup for the cross-service tests: per-service configs in one temp dir, instrumented
// services started from fixtures, and reading the journal all of them write.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { journalRecords } from '../helpers/journal';
import { startNode, type NodeProcess } from '../helpers/spawn';

export const KEY = 'test-shared-provenant-key';
export const fixture = (name: string): string => path.join(__dirname, 'fixtures', name);

export function writeConfig(dir: string, name: string, yaml: string): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, yaml);
  return file;
}

export function serviceEnv(dir: string, config: string, extra: Record<string, string> = {}): Record<string, string> {
  return { PROVENANT_CONFIG: config, PROVENANT_STATE_DIR: path.join(dir, 'state'), PROVENANT_KEY: KEY, ...extra };
}

export async function startService(
  dir: string,
  config: string,
  extra: Record<string, string> = {},
): Promise<{ proc: NodeProcess; port: number }> {
  const proc = startNode({ args: [fixture('service.cjs')], preload: 'require', env: serviceEnv(dir, config, extra), cwd: dir });
  const match = await proc.waitForLine(/^listening (\d+)$/);
  return { proc, port: Number(match[1]) };
}

export interface JournalRecord {
  op: string;
  service: string;
  resource: string;
  sources: string[];
  labels: { confidentiality: string; integrity: string; tags: string[]; locations: string[] };
  decision?: string;
  rule?: string;
  traceId?: string;
}

export function journal(dir: string): JournalRecord[] {
  return journalRecords(path.join(dir, 'state'));
}

/** The first journal record matching `predicate`, waiting for the services' batched flush. */
export async function waitForRecord(dir: string, predicate: (record: JournalRecord) => boolean, timeoutMs = 5000): Promise<JournalRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = journal(dir).find(predicate);
    if (found) return found;
    if (Date.now() > deadline) throw new Error('no matching journal record');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Parse the one JSON line a fixture client prints. */
export function lastJson<T>(stdout: string): T {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as T;
}
