// A workspace for the file and store mediation tests: a config in enforce mode labelling `secret/**`
// secret + pii, `protected/**` integrity high, `out/secret/**` secret, `out/public/**` public,
// `out/shared/**` secret where a rule keeps pii out; a state dir; and a runner that starts a
// real process under the preload executing a list of fs steps (apps/steps.cjs).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runNode, type RunResult } from '../helpers/spawn.js';
import { tempDir } from '../helpers/tmp.js';
import { distIndex, readStored, type StoredRow } from '../fs/fixture.js';

export const NODE_ID = 'testnode';
export const SECRET_TEXT = 'patient 7: diabetes\n';
export const PROTECTED_TEXT = 'dose table v1\n';
export const PUBLIC_TEXT = 'opening hours\n';
const stepsApp = path.join(__dirname, 'apps', 'steps.cjs');

export type Step = Record<string, string> & { op: string };
export type StepResult = { ok: true; bytes?: number; sources?: string[] } | { code: string; rule?: string };

export interface Workspace {
  root: string;
  stateDir: string;
  config: string;
  abs(relative: string): string;
  uri(relative: string): string;
  /** Run the steps in a new process under the preload; resolves with one result per step. */
  steps(steps: Step[], env?: Record<string, string>): Promise<StepResult[]>;
  run(args: string[], env?: Record<string, string>): Promise<RunResult>;
  stored(relative: string): StoredRow | undefined;
  read(relative: string): string;
}

export const DENIED = { code: 'ERR_PROVENANCE_DENIED' } as const;
export const OK = { ok: true } as const;

export function createWorkspace(stateDir?: string): Workspace {
  const root = tempDir('provenant-mediation-');
  const state = stateDir ?? path.join(root, '.state');
  for (const dir of ['secret', 'protected', 'out/secret', 'out/public', 'out/shared']) mkdirSync(path.join(root, dir), { recursive: true });
  writeFileSync(path.join(root, 'secret', 'a.txt'), SECRET_TEXT);
  writeFileSync(path.join(root, 'protected', 'p.txt'), PROTECTED_TEXT);
  writeFileSync(path.join(root, 'out', 'public', 'input.txt'), PUBLIC_TEXT);
  const config = path.join(root, 'provenant.yaml');
  writeFileSync(
    config,
    [
      `node: ${NODE_ID}`,
      'mode: enforce',
      'resources:',
      '  - match: { path: "secret/**" }',
      '    labels: { confidentiality: secret, tags: [pii] }',
      '  - match: { path: "protected/**" }',
      '    labels: { integrity: high }',
      '  - match: { path: "out/secret/**" }',
      '    labels: { confidentiality: secret }',
      '  - match: { path: "out/shared/**" }',
      '    labels: { confidentiality: secret }',
      '  - match: { path: "out/public/**" }',
      '    labels: { confidentiality: public }',
      'rules:',
      '  - id: no-pii-in-shared',
      '    deny: { data: { tags: [pii] }, destination: { path: "out/shared/**" } }',
      '',
    ].join('\n'),
  );
  const abs = (relative: string): string => path.join(root, relative);
  const run = (args: string[], env: Record<string, string> = {}): Promise<RunResult> =>
    runNode({
      args,
      cwd: root,
      preload: 'require',
      env: {
        PROVENANT_CONFIG: config,
        PROVENANT_STATE_DIR: state,
        PROVENANT_DIST_INDEX: distIndex,
        OTEL_SERVICE_NAME: 'mediation-test',
        ...env,
      },
    });
  return {
    root,
    stateDir: state,
    config,
    abs,
    uri: (relative) => `file://${NODE_ID}${abs(relative)}`,
    run,
    async steps(steps, env) {
      const result = await run([stepsApp, JSON.stringify(steps)], env);
      if (result.code !== 0) throw new Error(`steps app exited ${String(result.code)}: ${result.stderr}`);
      return JSON.parse(result.stdout) as StepResult[];
    },
    stored: (relative) => readStored(state, abs(relative)),
    read: (relative) => readFileSync(abs(relative), 'utf8'),
  };
}
