// The app the "app's own telemetry" tests run: it reads a confidential file (so its context is
// labelled), then runs the test's code and prints one JSON line per outcome through `report`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/spawn.js';
import { tempDir } from '../helpers/tmp.js';

/** A `require` argument for one of the OpenTelemetry packages installed here. */
export const otelModule = (name: string): string => JSON.stringify(join(repoRoot, 'node_modules', '@opentelemetry', name));

/** Writes the app (`requires`: its extra `require` lines, `action`: what it does after the read) and its config. */
export function confidentialApp(prefix: string, requires: string, action: string): { dir: string; state: string } {
  const dir = tempDir(prefix);
  mkdirSync(join(dir, 'secret'));
  writeFileSync(join(dir, 'secret', 'record.txt'), 'SECRET-DIAGNOSIS');
  writeFileSync(
    join(dir, 'provenant.yaml'),
    'resources:\n  - match: { path: "secret/**" }\n    labels: { confidentiality: confidential }\n',
  );
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
