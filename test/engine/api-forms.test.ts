/**
 * Every documented form of the API works under the preload and nothing it throws can crash the
 * app: record() with relative paths, label() with a relative path, a host:port and a service; and
 * without the preload, label() is a no-op like the rest of the API. Also: a denied copy or rename
 * reports the copied file's labels, not the (clean) context's.
 */
import { readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { distRegister, runNode, stopAll } from '../helpers/spawn.js';
import { journalRecords } from '../helpers/journal.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

const apiPath = JSON.stringify(join(distRegister, '..', 'index.js'));

function workspace(config: string, app: string): { dir: string; state: string } {
  const dir = tempDir('provenant-forms-');
  mkdirSync(join(dir, 'data'));
  mkdirSync(join(dir, 'public'));
  writeFileSync(join(dir, 'provenant.yaml'), config);
  writeFileSync(join(dir, 'data', 'x.csv'), 'secret,rows\n');
  writeFileSync(join(dir, 'app.js'), app);
  return { dir, state: join(dir, 'state') };
}

async function run(dir: string, state: string, preload: 'require' | 'none' = 'require') {
  return runNode({
    args: ['app.js'],
    cwd: dir,
    preload,
    env: { PROVENANT_STATE_DIR: state, PROVENANT_CONFIG: join(dir, 'provenant.yaml') },
  });
}

it('record() takes paths relative to the working directory, as inputs and outputs', async () => {
  const { dir, state } = workspace(
    'mode: enforce\nresources:\n  - match: { path: "data/**" }\n    labels: { confidentiality: secret, tags: [pii] }\n',
    `const provenant = require(${apiPath});
provenant.run(() => provenant.record({ action: 'report.built', inputs: ['data/x.csv'], outputs: ['out/report.pdf'] }));
console.log('alive');`,
  );
  const result = await run(dir, state);
  expect(result.stderr).toBe('');
  expect(result.stdout.trim()).toBe('alive');
  expect(result.code).toBe(0);
  const record = journalRecords(state).find((line) => line.op === 'record');
  expect(record?.resource).toMatch(new RegExp(`^file://[^/]*${join(dir, 'out', 'report.pdf')}$`));
  expect(record?.sources?.some((source) => source.endsWith(join(dir, 'data', 'x.csv')))).toBe(true);
});

it('record() with a form that names no resource is reported, never thrown into the app', async () => {
  const { dir, state } = workspace(
    'mode: enforce\n',
    `const provenant = require(${apiPath});
provenant.record({ action: 'odd', inputs: ['nosuchscheme://x:y:z'] });
console.log('alive');`,
  );
  const result = await run(dir, state);
  expect(result.stdout.trim()).toBe('alive');
  expect(result.code).toBe(0);
});

it('label() takes a relative path, a host:port and a service URI, and the labels are enforced', async () => {
  const { dir, state } = workspace(
    'mode: enforce\n',
    `const fs = require('node:fs');
const provenant = require(${apiPath});
provenant.label('data/x.csv', { confidentiality: 'secret' });
provenant.label('api.example.com:8443', { confidentiality: 'confidential' });
provenant.label('service://billing', { location: 'us-east-1' });
provenant.label('out/model.bin', { confidentiality: 'secret' });
provenant.run(() => {
  const rows = fs.readFileSync('data/x.csv');
  try { fs.writeFileSync('public/leak.csv', rows); console.log('written'); } catch (error) { console.log(error.code, error.labels.confidentiality); }
  fs.writeFileSync('out/model.bin', rows);
  console.log('model written');
});`,
  );
  mkdirSync(join(dir, 'out'));
  const result = await run(dir, state);
  expect(result.stderr).toBe('');
  expect(result.stdout.trim().split('\n')).toEqual(['ERR_PROVENANCE_DENIED secret', 'model written']);
  expect(existsSync(join(dir, 'public', 'leak.csv'))).toBe(false);
});

it('without the preload, label() and record() do nothing and the app runs', async () => {
  const { dir, state } = workspace(
    'mode: enforce\n',
    `const provenant = require(${apiPath});
provenant.label('data/x.csv', { confidentiality: 'secret' });
provenant.record({ action: 'x', inputs: ['data/x.csv'] });
console.log('alive');`,
  );
  const result = await run(dir, state, 'none');
  expect(result.stderr).toBe('');
  expect(result.stdout.trim()).toBe('alive');
  expect(existsSync(state)).toBe(false);
});

it.each([
  ['copyFileSync', `fs.copyFileSync('data/x.csv', 'public/x.csv')`],
  ['renameSync', `fs.renameSync('data/x.csv', 'public/x.csv')`],
])('a denied %s carries the copied file’s labels and the destination', async (_name, call) => {
  const { dir, state } = workspace(
    'mode: enforce\nresources:\n  - match: { path: "data/**" }\n    labels: { confidentiality: secret, tags: [pii] }\n',
    `const fs = require('node:fs');
try { ${call}; console.log('moved'); } catch (error) {
  console.log(JSON.stringify({ code: error.code, rule: error.rule, labels: error.labels, destination: error.destination, reason: error.reason }));
}`,
  );
  const before = readFileSync(join(dir, 'data', 'x.csv'));
  const result = await run(dir, state);
  expect(result.stderr).toBe('');
  const denial = JSON.parse(result.stdout) as {
    code: string;
    rule: string;
    labels: { confidentiality: string; tags: string[] };
    destination: string;
    reason: string;
  };
  expect(denial.code).toBe('ERR_PROVENANCE_DENIED');
  expect(denial.rule).toBe('confidentiality');
  expect(denial.labels.confidentiality).toBe('secret');
  expect(denial.labels.tags).toEqual(['pii']);
  expect(denial.destination).toMatch(new RegExp(`^file://[^/]*${join(dir, 'public', 'x.csv')}$`));
  expect(denial.reason).toContain('secret');
  // Nothing moved: the source is intact and the destination was never created.
  expect(readFileSync(join(dir, 'data', 'x.csv'))).toEqual(before);
  expect(existsSync(join(dir, 'public', 'x.csv'))).toBe(false);
});
