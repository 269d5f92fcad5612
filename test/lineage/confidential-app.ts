// The app the "app's own telemetry" tests run: it reads a confidential file (so its context is
// labelled), then runs the test's code and prints one JSON line per outcome through `report`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { repoRoot, runNode } from '../helpers/spawn.js';
import { tempDir } from '../helpers/tmp.js';

/** A `require` argument for one of the OpenTelemetry packages installed here. */
export const otelModule = (name: string): string => JSON.stringify(join(repoRoot, 'node_modules', '@opentelemetry', name));

/** A fresh folder with `secret/record.txt` (SECRET-DIAGNOSIS) and a config labelling `secret/**` confidential. */
export function confidentialDir(prefix: string): string {
  const dir = tempDir(prefix);
  mkdirSync(join(dir, 'secret'));
  writeFileSync(join(dir, 'secret', 'record.txt'), 'SECRET-DIAGNOSIS');
  writeFileSync(
    join(dir, 'provenant.yaml'),
    'resources:\n  - match: { path: "secret/**" }\n    labels: { confidentiality: confidential }\n',
  );
  return dir;
}

/** Writes the app (`requires`: its extra `require` lines, `action`: what it does after the read) and its config. */
export function confidentialApp(prefix: string, requires: string, action: string): { dir: string; state: string } {
  const dir = confidentialDir(prefix);
  writeFileSync(
    join(dir, 'app.js'),
    `const fs = require('node:fs');
${requires}
const secret = fs.readFileSync(__dirname + '/secret/record.txt', 'utf8');
const report = (outcome) => console.log(JSON.stringify(outcome));
${action}
`,
  );
  return { dir, state: join(dir, 'state') };
}

/**
 * Runs the app under the preload in enforce mode and returns the JSON line it printed. provenant's
 * own span and log exports are off unless `env` turns them on, so whatever a listener counts is the app's.
 */
export async function runConfidentialApp(dir: string, state: string, env: Record<string, string>): Promise<unknown> {
  const result = await runNode({
    args: ['app.js'],
    cwd: dir,
    preload: 'require',
    env: { PROVENANT_STATE_DIR: state, PROVENANT_MODE: 'enforce', OTEL_TRACES_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none', ...env },
  });
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout.trim());
}
