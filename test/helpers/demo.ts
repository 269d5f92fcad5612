// Runs the demo scenario (examples/demo/scenario.mjs): three instrumented services whose
// journals the demo, UI and report tests read.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { cleanEnv, nodeBin, repoRoot } from './spawn.js';
import { tempDir } from './tmp.js';

export interface Denial {
  rule: string;
  reason: string;
  destination: string;
}

/** What runScenario resolves with (examples/demo/scenario.mjs). */
export interface ScenarioResult {
  ok: boolean;
  dir: string;
  stateDirs: string[];
  checks: { ok: boolean; expectation: string; text: string }[];
  residency: { denial?: Denial; billing: { connections: number; requests: number; bytes: number } };
  integrity: { status: number; denial?: Denial; hashBefore: string; hashAfter: string };
  revocation: { cohort?: { status: number; rule: string }; publish?: Denial };
  lineage: {
    resource: string;
    nodes: { resource: string; labels: { confidentiality: string; integrity: string; tags: string[] } | null }[];
    edges: { from: string; to: string; service: string }[];
  };
  denials: { rule: string; service: string; resource: string }[];
  verify: { ok: boolean; failures: unknown[]; records: number };
}

type RunScenario = (options: { dir: string; node: string; env: NodeJS.ProcessEnv; log: (line: string) => void }) => Promise<ScenarioResult>;

/** Runs the scenario in a fresh temp dir (removed by cleanupTempDirs). */
export async function runDemo(env: Record<string, string | undefined> = {}): Promise<{ result: ScenarioResult; output: string }> {
  const { runScenario } = (await import(pathToFileURL(path.join(repoRoot, 'examples/demo/scenario.mjs')).href)) as {
    runScenario: RunScenario;
  };
  const lines: string[] = [];
  const result = await runScenario({ dir: tempDir('provenant-demo-'), node: nodeBin, env: cleanEnv(env), log: (line) => lines.push(line) });
  return { result, output: lines.join('\n') };
}

/** The demo's file URIs, as its services' configs name their nodes. */
export function demoFiles(dir: string): { report: string; extract: string; record: string; tariffs: string; published: string } {
  return {
    report: `file://eu-research-1${path.join(dir, 'research/reports/diabetes-2026.json')}`,
    extract: `file://eu-clinic-1${path.join(dir, 'clinic/exports/cohort-diabetes-2026.json')}`,
    record: `file://eu-clinic-1${path.join(dir, 'clinic/data/patients/p-1001.json')}`,
    tariffs: `file://us-billing-1${path.join(dir, 'billing/data/tariffs/2026.json')}`,
    published: `file://eu-research-1${path.join(dir, 'research/published/diabetes-2026.json')}`,
  };
}
