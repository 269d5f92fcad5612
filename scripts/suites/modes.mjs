// How a suite runs in each mode: plain, and under the preload (through NODE_OPTIONS, so every test
// file's process and any child it starts has it) in enforce and audit mode with the default
// config, and in enforce mode with a config that labels the run's temp folder (TMPDIR), where the
// suites write their files: those writes and reads then carry a label, which the built-in lattice
// lets reach stdout and other files (public, high integrity), so a denial there would be a defect.
import { writeFileSync } from 'node:fs';
import path from 'node:path';

const register = path.resolve(import.meta.dirname, '..', '..', 'dist', 'register.js');

export const MODES = ['plain', 'enforce', 'audit', 'labelled-temp'];

/** process.env without the developer's own provenant, OpenTelemetry and NODE_OPTIONS settings. */
function baseEnv() {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('OTEL_') || key.startsWith('PROVENANT_') || key === 'NODE_OPTIONS' || key.startsWith('npm_')) continue;
    env[key] = value;
  }
  return env;
}

/** The environment of one run in `mode`; `dir` is the run's own folder (tmp/ and state/ inside). */
export function modeEnv(mode, dir) {
  const env = { ...baseEnv(), TMPDIR: path.join(dir, 'tmp') };
  if (mode === 'plain') return env;
  env.NODE_OPTIONS = `-r ${register}`;
  env.PROVENANT_STATE_DIR = path.join(dir, 'state');
  env.PROVENANT_MODE = mode === 'audit' ? 'audit' : 'enforce';
  if (mode === 'labelled-temp') {
    const config = path.join(dir, 'provenant.yaml');
    writeFileSync(
      config,
      [
        'resources:',
        `  - match: { path: ${JSON.stringify(path.join(dir, 'tmp', '**'))} }`,
        '    labels: { confidentiality: public, integrity: low, tags: [suite-temp] }',
        '',
      ].join('\n'),
    );
    env.PROVENANT_CONFIG = config;
  }
  return env;
}
