// A workspace for the mediation tests: `secret/a.txt` labelled secret + pii, `out/secret/**`
// secret, `out/public/**` public, extra YAML per test, a state dir, and a runner that starts an
// app from test/mediation/apps under the preload in enforce mode.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, runNode, type Preload, type RunResult } from '../helpers/spawn.js';
import { tempDir } from '../helpers/tmp.js';

export const NODE_ID = 'testnode';
export const SECRET_TEXT = 'patient 1003: HbA1c 8.1\n';
export const appsDir = path.join(__dirname, 'apps');
export const distIndex = path.join(repoRoot, 'dist', 'index.js');
/** A key for signing claims (tests only). */
export const TEST_KEY = 'mediation-test-key';

export interface Workspace {
  readonly root: string;
  readonly stateDir: string;
  readonly config: string;
  abs(relative: string): string;
  exists(relative: string): boolean;
  read(relative: string): string;
  /** Run `app` (a file in apps/) with the workspace root as argv[2], then `args`. */
  run(app: string, options?: { args?: string[]; env?: Record<string, string | undefined>; preload?: Preload }): Promise<RunResult>;
}

export function workspace(extraYaml = ''): Workspace {
  const root = tempDir('provenant-mediation-');
  const stateDir = path.join(root, '.state');
  for (const dir of ['secret', 'out/secret', 'out/public']) mkdirSync(path.join(root, dir), { recursive: true });
  writeFileSync(path.join(root, 'secret', 'a.txt'), SECRET_TEXT);
  const config = path.join(root, 'provenant.yaml');
  writeFileSync(
    config,
    [
      `node: ${NODE_ID}`,
      'mode: enforce',
      'resources:',
      '  - match: { path: "secret/**" }',
      '    labels: { confidentiality: secret, tags: [pii] }',
      '  - match: { path: "out/secret/**" }',
      '    labels: { confidentiality: secret }',
      '  - match: { path: "out/public/**" }',
      '    labels: { confidentiality: public }',
      extraYaml,
      '',
    ].join('\n'),
  );
  const abs = (relative: string): string => path.join(root, relative);
  return {
    root,
    stateDir,
    config,
    abs,
    exists: (relative) => existsSync(abs(relative)),
    read: (relative) => readFileSync(abs(relative), 'utf8'),
    run: (app, options = {}) =>
      runNode({
        args: [path.join(appsDir, app), root, ...(options.args ?? [])],
        cwd: root,
        preload: options.preload ?? 'require',
        env: {
          PROVENANT_CONFIG: config,
          PROVENANT_STATE_DIR: stateDir,
          PROVENANT_DIST_INDEX: distIndex,
          OTEL_SERVICE_NAME: 'mediation-test',
          ...options.env,
        },
      }),
  };
}

/** The last stdout line of a run, parsed as JSON (apps print their outcomes as one JSON line). */
export function outcome<T = Record<string, unknown>>(result: RunResult): T {
  const lines = result.stdout.trim().split('\n');
  const last = lines[lines.length - 1] ?? '';
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new Error(`no JSON outcome (exit ${String(result.code)})\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`);
  }
}
