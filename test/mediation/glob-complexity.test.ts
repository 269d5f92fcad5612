// A catastrophic glob in the config (each `*` a backtracking loop in picomatch's RegExp) must not
// pass validation: `**/*a*a*a*a*a*a*a*a*a*a*b` took seconds per write to a new 36-character name.
// The validator bounds the loops a glob compiles to and names file:line:col; what it accepts
// still decides writes to adversarial upload names.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { globProblem, MAX_GLOB_WILDCARDS } from '../../src/config/glob.js';
import { repoRoot, runNode, stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { outcome, workspace } from './fixture.js';

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

const CATASTROPHIC = '**/*a*a*a*a*a*a*a*a*a*a*b';
const cli = path.join(repoRoot, 'dist', 'cli', 'main.js');

describe('glob complexity', () => {
  it('policy validate rejects the catastrophic glob with its file, line and column', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'provenant.yaml');
    writeFileSync(file, `resources:\n  - match: { path: "${CATASTROPHIC}" }\n    labels: { confidentiality: secret }\n`);
    const result = await runNode({ args: [cli, 'policy', 'validate', file], cwd: dir });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain(
      `provenant: invalid config ${file}:2:20: resources[0].match.path "${CATASTROPHIC}" has 12 "*" wildcards; at most 3`,
    );
  });

  it('a process whose config holds it stops at start (exit 78) before the app runs', async () => {
    const ws = workspace(`  - match: { path: "uploads/${CATASTROPHIC}" }\n    labels: { confidentiality: secret }`);
    const result = await ws.run('current.cjs');
    expect(result.code).toBe(78);
    expect(result.stdout).toBe('');
  });

  it('the one check every config glob goes through counts its loops and refuses repeating extglobs', () => {
    expect(globProblem(CATASTROPHIC)).toMatch(/has 12 "\*" wildcards/);
    expect(globProblem('**/*a*a*b')).toMatch(/has 4 "\*" wildcards/);
    expect(globProblem('+(a|aa)b')).toMatch(/repeating extglob "\+\(…\)"/);
    expect(globProblem('x*(a|b)')).toMatch(/repeating extglob "\*\(…\)"/);
    // `**` is one loop, escaped and bracketed stars are literals.
    expect(globProblem('data/**/reports/*-2026-*.json')).toBeUndefined();
    expect(globProblem('\\*\\*\\*\\*[*]a*b')).toBeUndefined();
    expect(MAX_GLOB_WILDCARDS).toBe(3);
  });

  it('a glob at the bound still decides writes to adversarial upload names', async () => {
    const ws = workspace('  - match: { path: "out/uploads/**/*a*b" }\n    labels: { confidentiality: secret }');
    const names = ['a'.repeat(36), 'a'.repeat(200) + 'c', 'a'.repeat(100) + 'b'];
    const result = await ws.run('uploads.cjs', { args: names });
    expect(result.code, result.stderr).toBe(0);
    // Only the name that matches (ends in b) is labelled secret and may take the secret.
    expect(outcome(result)).toEqual({
      [names[0]]: 'ERR_PROVENANCE_DENIED',
      [names[1]]: 'ERR_PROVENANCE_DENIED',
      [names[2]]: 'written',
    });
  });
});
