// `npm run demo`: the three-service scenario with readable output. Exits 1 when any expected
// outcome did not happen. Optional argument: the folder to keep the run's state in.
import { mkdirSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { runScenario } from './scenario.mjs';

const started = Date.now();
const target = process.argv[2] ? resolve(process.argv[2]) : undefined;
if (target) mkdirSync(target, { recursive: true });
const result = await runScenario({ dir: target && realpathSync(target) });
const state = result.stateDirs.map((d) => `--state ${d}`).join(' ');
console.log(`Finished in ${((Date.now() - started) / 1000).toFixed(1)} s. The run's configs, data and journals are in ${result.dir}`);
console.log(`Explore them:  npx provenant query ${state}`);
process.exitCode = result.ok ? 0 : 1;
