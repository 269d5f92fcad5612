// What a record carries, from a real preloaded process: the digest of the policy that decided it
// (and `policy check --at` replays that decision from the kept policy), URLs without query values
// or credentials, and pseudonymised users as `enduser.pseudo.id`.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forEachRecord } from '../../src/journal/decode.js';
import type { JournalRecord } from '../../src/journal/format.js';
import { redactUrl } from '../../src/provenance/url-redaction.js';
import { repoRoot, runNode, type RunResult, runCli as cli } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { fixtures, segmentFiles } from './helpers.js';

afterAll(cleanupTempDirs);

let stateDir: string;
let app: RunResult;
let records: JournalRecord[];
let journalText: string;

beforeAll(async () => {
  const work = tempDir('provenant-records-');
  stateDir = path.join(work, 'state');
  mkdirSync(path.join(work, 'secret'));
  mkdirSync(path.join(work, 'public'));
  writeFileSync(path.join(work, 'secret', 'patients.json'), '{"name":"Ada"}');
  writeFileSync(
    path.join(work, 'provenant.yaml'),
    [
      'service: billing',
      'node: n1',
      'resources:',
      '  - match: { path: "secret/**" }',
      '    labels: { confidentiality: secret, tags: [pii] }',
      'journal: { repeatWindowMs: 0, pseudonymize: true }',
    ].join('\n') + '\n',
  );
  app = await runNode({
    args: [path.join(fixtures, 'records-app.cjs')],
    preload: 'require',
    env: {
      WORK_DIR: work,
      PROVENANT_API: path.join(repoRoot, 'dist', 'index.js'),
      PROVENANT_CONFIG: path.join(work, 'provenant.yaml'),
      PROVENANT_STATE_DIR: stateDir,
      PROVENANT_KEY: 'pseudonym-key',
      OTEL_TRACES_EXPORTER: 'console',
    },
  });
  expect(app.code, app.stderr).toBe(0);
  journalText = segmentFiles(stateDir)
    .map((f) => readFileSync(f, 'utf8'))
    .join('');
  records = [];
  forEachRecord([stateDir], (record) => records.push(record));
});

describe('URLs and users in records and spans', () => {
  it('url.full keeps the keys of the query, never its values', () => {
    const port = /^port (\d+)$/m.exec(app.stdout)![1];
    const urls = records.flatMap((r) => (typeof r.attributes?.['url.full'] === 'string' ? [r.attributes['url.full']] : []));
    // From http.get and from fetch (a request's write and its response's read).
    expect(urls.length).toBeGreaterThanOrEqual(2);
    expect(new Set(urls)).toEqual(new Set([`http://127.0.0.1:${port}/api?api_key=REDACTED&email=REDACTED`]));
    for (const text of [journalText, app.stdout]) {
      expect(text).not.toContain('SECRET123');
      expect(text).not.toContain('alice');
    }
  });

  it('a pseudonymised user is enduser.pseudo.id in spans, and a pseudonym in the journal', () => {
    expect(records.filter((r) => r.user !== undefined).every((r) => /^hmac:[0-9a-f]{64}$/.test(r.user!))).toBe(true);
    expect(records.some((r) => r.user !== undefined)).toBe(true);
    expect(app.stdout).toMatch(/'enduser\.pseudo\.id': 'hmac:[0-9a-f]{64}'/);
    expect(app.stdout).not.toMatch(/'enduser\.id'/);
  });

  it('redactUrl: credentials removed, values replaced, everything else as written', () => {
    expect(redactUrl('https://user:pass@api.example.com:8443/v1/x?api_key=k&email=a%40b.c&flag#top')).toBe(
      'https://api.example.com:8443/v1/x?api_key=REDACTED&email=REDACTED&flag#top',
    );
    expect(redactUrl('http://[::1]:80/a/b')).toBe('http://[::1]:80/a/b');
    expect(redactUrl('http://h/p?=x&a=')).toBe('http://h/p?=REDACTED&a=REDACTED');
    expect(redactUrl('http://u@h/@x?y=@')).toBe('http://h/@x?y=REDACTED');
  });
});

describe('policy check --at replays a recorded decision', () => {
  it('every record names the policy, kept by digest; the denial replays with the same rule and reason', async () => {
    const rule = /^denied (\S+)$/m.exec(app.stdout)![1];
    const digests = new Set(records.map((r) => r.policy));
    expect(digests.size).toBe(1);
    const [digest] = digests;
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(readdirSync(path.join(stateDir, 'policies'))).toEqual([`${digest!.slice('sha256:'.length)}.json`]);

    const denial = records.find((r) => r.decision === 'deny')!;
    expect(denial).toMatchObject({ rule });
    const segment = path.basename(segmentFiles(stateDir)[0]);
    const replay = await cli('policy', 'check', '--at', `${segment}:${denial.seq}`, '--state', stateDir, '--json');
    expect(replay.code, replay.stderr).toBe(0);
    expect(JSON.parse(replay.stdout)).toEqual({
      policy: digest,
      recorded: { decision: 'deny', rule, reason: denial.reason },
      replayed: { decision: 'deny', rule, reason: denial.reason },
      same: true,
    });
    const text = await cli('policy', 'check', '--at', `${segment}:${denial.seq}`, '--state', stateDir);
    expect(text.stdout).toMatch(/same decision and rule/);

    const policyFile = path.join(stateDir, 'policies', `${digest!.slice('sha256:'.length)}.json`);
    writeFileSync(policyFile, readFileSync(policyFile, 'utf8').replace('"secret"', '"public"'));
    const altered = await cli('policy', 'check', '--at', `${segment}:${denial.seq}`, '--state', stateDir);
    expect(altered.code).toBe(1);
    expect(altered.stderr).toMatch(/does not match its digest \(altered\)/);
  });
});
