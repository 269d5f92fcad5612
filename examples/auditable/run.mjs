// `npm run demo:auditable`: the scenario with readable output; exit 1 when any expectation failed.
import { runScenario } from './scenario.mjs';

const started = Date.now();
const result = await runScenario();
console.log(`Finished in ${((Date.now() - started) / 1000).toFixed(1)} s. Configs, keys and journals: ${result.dir}`);
process.exitCode = result.ok ? 0 : 1;
