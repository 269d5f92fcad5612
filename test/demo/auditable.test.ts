/**
 * The auditable demo (`npm run demo:auditable`) as a test: four instrumented services, facts
 * attested from their traffic, the drone operator's monitors. Each expectation is a check the
 * scenario makes on what happened (status codes, the launch log, journal records, explain).
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { cleanEnv, nodeBin, repoRoot } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

interface Check {
  ok: boolean;
  text: string;
}

type RunScenario = (options: {
  dir: string;
  node: string;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
}) => Promise<{ ok: boolean; checks: Check[] }>;

afterAll(cleanupTempDirs);

it('launches a booked mission, refuses injected and forged ready-to-fly, flags a late one and contradicts the broker', async () => {
  const { runScenario } = (await import(pathToFileURL(path.join(repoRoot, 'examples/auditable/scenario.mjs')).href)) as {
    runScenario: RunScenario;
  };
  const lines: string[] = [];
  const result = await runScenario({
    dir: tempDir('provenant-auditable-'),
    node: nodeBin,
    env: cleanEnv({}),
    log: (line) => lines.push(line),
  });
  expect(result.checks.filter((check) => !check.ok)).toEqual([]);
  expect(result.checks).toHaveLength(8);
  expect(result.ok).toBe(true);
  const output = lines.join('\n');
  expect(output).toContain('missing premise attested(resources, mission(m-666, B))');
  expect(output).toMatch(
    /timely\(m-200\) is not proven: missing attested\(broker, booking_confirmed\(b-200\)\) within 2s \(the newest matching fact is \d+ms old, beyond 2s\)/,
  );
  expect(output).toMatch(/├─ attested\(broker, booking_confirmed\(b-100\)\) {2}\[fact [0-9a-f]{12}, signature ✔\]/);
}, 60_000);
