// `provenant policy validate|check` run as users run them: node dist/cli/main.js (build first).
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runNode } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

const cli = join(repoRoot, 'dist', 'cli', 'main.js');
let dir: string;

const CONFIG = `
node: eu-node-1
location: eu-west-1
resources:
  - match: { path: "data/patients/**" }
    labels: { confidentiality: secret, integrity: high, tags: [pii] }
  - match: { path: "public/**" }
    labels: { confidentiality: public, integrity: high }
  - match: { host: "*.us.example.com" }
    labels: { confidentiality: secret, location: us-east-1 }
rules:
  - id: pii-stays-in-eu
    deny: { data: { tags: [pii] }, destination: { location: { notIn: [eu-west-1, eu-central-1] } } }
    message: PII must not leave the EU
revoked: ["data/patients/42.json"]
`;

beforeAll(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npx tsc -p tsconfig.json\` (npm test does) before these tests`);
  dir = tempDir();
  writeFileSync(join(dir, 'provenant.yaml'), CONFIG);
  writeFileSync(join(dir, 'bad.yaml'), 'resources:\n  - match: { path: "x/**" }\n    lables: {}\n');
});
afterAll(cleanupTempDirs);

const run = (...args: string[]) => runNode({ args: [cli, 'policy', ...args], cwd: dir });

describe('provenant policy validate', () => {
  it('exits 0 with a summary for a valid file (./provenant.yaml by default)', async () => {
    const result = await run('validate');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        `valid: ${join(dir, 'provenant.yaml')}`,
        '  mode enforce, node eu-node-1, location eu-west-1',
        '  confidentiality public < internal < confidential < secret; integrity untrusted < low < high',
        '  defaults public/low; 3 resource entries, 1 rule, 1 revoked resource',
        '  0 monitors, 0 attest entries, 0 trusted identities',
        '',
      ].join('\n'),
    );
  });

  it('exits 78 with file, line, column and problem for an invalid file', async () => {
    const result = await run('validate', 'bad.yaml');
    expect(result.code).toBe(78);
    expect(result.stderr).toBe(
      `provenant: invalid config ${join(dir, 'bad.yaml')}:3:5: unknown key "lables" in resources[0] (did you mean "labels"?)\n`,
    );
  });
});

describe('provenant policy check', () => {
  it('--json prints decision, rule and reason; exit 1 on deny', async () => {
    const result = await run('check', '--data', '{"sources":["data/patients/1.json"]}', '--to', '/tmp/out.json', '--json');
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({
      decision: 'deny',
      rule: 'confidentiality',
      reason: `data is secret (from file://eu-node-1${dir}/data/patients/1.json) but file://eu-node-1/tmp/out.json is public`,
    });
  });

  it('user rules, revocation and explicit labels', async () => {
    const residency = await run('check', '--data', '{"tags":["pii"]}', '--to', 'https://api.us.example.com', '--json');
    expect(JSON.parse(residency.stdout)).toMatchObject({ decision: 'deny', rule: 'pii-stays-in-eu' });
    const revoked = await run('check', '--data', '{"sources":["data/patients/42.json"]}', '--to', 'data/patients/copy.json', '--json');
    expect(JSON.parse(revoked.stdout)).toMatchObject({ decision: 'deny', rule: 'revoked' });
    const integrity = await run('check', '--data', '{"integrity":"untrusted"}', '--to', 'public/index.html');
    expect(integrity.stdout).toBe(
      `deny (rule integrity): data has untrusted integrity (from --data) but file://eu-node-1${dir}/public/index.html accepts only high integrity or higher\n`,
    );
  });

  it('exit 0 on allow, readable line without --json', async () => {
    const result = await run('check', '--data', '{"confidentiality":"secret","tags":["pii"]}', '--to', 'data/patients/2.json');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`allow: flow to file://eu-node-1${dir}/data/patients/2.json\n`);
    const json = await run('check', '--data', '{}', '--to', 'tcp://10.0.0.1:80', '--json');
    expect(JSON.parse(json.stdout)).toEqual({ decision: 'allow', rule: null, reason: null });
  });

  it('audit mode (PROVENANT_MODE) reports a violation, still exit 1', async () => {
    const result = await runNode({
      args: [cli, 'policy', 'check', '--data', '{"confidentiality":"secret"}', '--to', '/tmp/x', '--json'],
      cwd: dir,
      env: { PROVENANT_MODE: 'audit' },
    });
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ decision: 'violation', rule: 'confidentiality' });
  });

  it('--config picks the file; bad arguments exit 64; a bad config exits 78', async () => {
    const elsewhere = tempDir();
    const result = await runNode({
      args: [
        cli,
        'policy',
        'check',
        '--config',
        join(dir, 'provenant.yaml'),
        '--data',
        '{"tags":["pii"]}',
        '--to',
        'service://x',
        '--location',
        'us-east-1',
      ],
      cwd: elsewhere,
    });
    expect(result.stdout).toBe(
      'deny (rule pii-stays-in-eu): PII must not leave the EU: data is tagged pii (from --data); service://x is public in us-east-1\n',
    );
    const badLevel = await run('check', '--data', '{"confidentiality":"topsecret"}', '--to', '/tmp/x');
    expect(badLevel.code).toBe(64);
    expect(badLevel.stderr).toMatch(/^provenant: --data: unknown confidentiality level "topsecret"/);
    expect((await run('check', '--data', 'not json', '--to', '/tmp/x')).code).toBe(64);
    expect((await run('check', '--to', '/tmp/x')).code).toBe(64);
    const badConfig = await run('check', '--config', 'bad.yaml', '--data', '{}', '--to', '/tmp/x');
    expect(badConfig.code).toBe(78);
  });
});

describe('watching never keeps a process alive', () => {
  it('a process that only watches its config exits by itself', async () => {
    const holder = join(repoRoot, 'dist', 'policy', 'holder.js');
    const load = join(repoRoot, 'dist', 'config', 'load.js');
    const file = JSON.stringify(join(dir, 'provenant.yaml'));
    const script = `const { PolicyHolder } = require(${JSON.stringify(holder)}); const { loadConfig } = require(${JSON.stringify(load)}); new PolicyHolder({ config: loadConfig({ file: ${file} }) }).watch(); console.log('watching');`;
    const result = await runNode({ args: ['-e', script], timeoutMs: 10_000 });
    expect(result.stdout).toBe('watching\n');
    expect(result.code).toBe(0);
  });
});
