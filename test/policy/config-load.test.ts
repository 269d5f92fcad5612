// Config resolution, built-in defaults, normalisation (paths made absolute) and env overrides.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_JOURNAL } from '../../src/config/defaults.js';
import { loadConfig } from '../../src/config/load.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { configFrom, NODE } from './helpers.js';

afterAll(cleanupTempDirs);

describe('loadConfig resolution', () => {
  it('with no file anywhere: built-in defaults', () => {
    const cwd = tempDir();
    const config = loadConfig({ cwd, env: {}, hostname: 'h1' });
    expect(config).toEqual({
      baseDir: cwd,
      node: 'h1',
      mode: 'enforce',
      granularity: 'request',
      inheritProcessContext: false,
      levels: { confidentiality: ['public', 'internal', 'confidential', 'secret'], integrity: ['untrusted', 'low', 'high'] },
      defaults: { confidentiality: 'public', integrity: 'low' },
      resources: [],
      rules: [],
      revoked: [],
      trust: { peers: [], identities: [], audience: [], maxAgeSeconds: 300 },
      journal: {
        enabled: true,
        contentHash: 'none',
        pseudonymize: false,
        sync: 'batch',
        flushIntervalMs: 100,
        checkpointEvery: 1000,
        checkpointIntervalMs: 10_000,
        segmentMaxBytes: 64 * 1024 * 1024,
        repeatWindowMs: 1000,
        witnesses: [],
        witnessQuorum: 1,
      },
      monitors: [],
      attest: [],
      api: { label: true, shutdown: true },
    });
  });

  it('./provenant.yaml, then PROVENANT_CONFIG, then options.file take precedence in that order', () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'provenant.yaml'), 'service: local\n');
    writeFileSync(join(cwd, 'env.yaml'), 'service: from-env\n');
    writeFileSync(join(cwd, 'opt.yaml'), 'service: from-option\n');
    expect(loadConfig({ cwd, env: {} })).toMatchObject({ service: 'local', file: join(cwd, 'provenant.yaml'), baseDir: cwd });
    expect(loadConfig({ cwd, env: { PROVENANT_CONFIG: 'env.yaml' } }).service).toBe('from-env');
    expect(loadConfig({ cwd, env: { PROVENANT_CONFIG: 'env.yaml' }, file: 'opt.yaml' }).service).toBe('from-option');
  });

  it('PROVENANT_MODE overrides the file; OTEL_SERVICE_NAME is the default service', () => {
    expect(configFrom('mode: enforce', { PROVENANT_MODE: 'audit' }).mode).toBe('audit');
    expect(configFrom('mode: audit', { PROVENANT_MODE: 'off' }).mode).toBe('off');
    expect(configFrom('', { OTEL_SERVICE_NAME: 'svc' }).service).toBe('svc');
    expect(configFrom('service: mine', { OTEL_SERVICE_NAME: 'svc' }).service).toBe('mine');
  });
});

describe('normalisation', () => {
  const config = configFrom(`
service: patients
node: eu-node-1
location: eu-west-1
mode: audit
granularity: process
inheritProcessContext: true
levels: { confidentiality: [open, restricted, closed], integrity: [dubious, solid] }
resources:
  - match: { path: "data/patients/**" }
    labels: { confidentiality: closed, integrity: solid, tags: pii, location: eu-west-1 }
  - match: { host: "*.example.com", port: 443 }
    labels: { confidentiality: restricted }
rules:
  - id: r1
    deny:
      data: { tags: [pii], sources: ["data/**", "https://*.example.com:*"], locations: [eu-west-1] }
      destination: { kind: http, path: "/abs/**", location: [eu-west-1] }
    message: no
  - allow: { destination: { service: reports } }
revoked: ["data/patients/42.json", "/abs/x", "https://evil.example.com:443"]
trust: { peers: "*.internal", maxAgeSeconds: 60 }
journal: { contentHash: sha256, sync: always, segmentMaxBytes: 1048576 }
`);

  it('resolves paths against the config folder and keeps URIs', () => {
    expect(config.resources[0]).toEqual({
      match: { path: '/srv/app/data/patients/**' },
      labels: { confidentiality: 'closed', integrity: 'solid', tags: ['pii'], location: 'eu-west-1' },
      line: 10,
    });
    expect(config.rules[0]).toEqual({
      id: 'r1',
      effect: 'deny',
      line: 15,
      message: 'no',
      data: {
        tags: { any: ['pii'] },
        sources: ['file://eu-node-1/srv/app/data/**', 'https://*.example.com:*'],
        locations: { in: ['eu-west-1'] },
      },
      destination: { kind: ['http'], path: '/abs/**', location: { in: ['eu-west-1'] } },
    });
    expect(config.revoked).toEqual(['/srv/app/data/patients/42.json', '/abs/x', 'https://evil.example.com:443']);
  });

  it('names unnamed rules by position, reads every section', () => {
    expect(config.rules[1]).toMatchObject({ id: 'rule-2', effect: 'allow', destination: { service: 'reports' } });
    expect(config).toMatchObject({
      service: 'patients',
      node: 'eu-node-1',
      location: 'eu-west-1',
      mode: 'audit',
      granularity: 'process',
      inheritProcessContext: true,
      levels: { confidentiality: ['open', 'restricted', 'closed'], integrity: ['dubious', 'solid'] },
      // Custom levels without the default names: the lowest of each.
      defaults: { confidentiality: 'open', integrity: 'dubious' },
      trust: { peers: ['*.internal'], maxAgeSeconds: 60 },
      journal: { ...DEFAULT_JOURNAL, contentHash: 'sha256', sync: 'always', segmentMaxBytes: 1048576 },
    });
  });

  it('an empty file is the built-in defaults with the node given', () => {
    expect(configFrom('').node).toBe(NODE);
    expect(configFrom('# only a comment\n').rules).toEqual([]);
  });
});
