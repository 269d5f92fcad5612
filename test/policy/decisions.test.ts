// Revocation (retroactive), enforce / audit / off, fail-closed faults, and the decision memo.
import { describe, expect, it } from 'vitest';
import { LabelSchema } from '../../src/provenance/labels.js';
import type { ProvenanceSet } from '../../src/provenance/provenance-set.js';
import { compilePolicy, DECISION_CACHE_SIZE } from '../../src/policy/compile.js';
import { configFrom, fixture, fixtureFor } from './helpers.js';

const PATIENTS = `
resources:
  - { match: { path: "data/patients/**" }, labels: { confidentiality: secret, integrity: high, tags: [pii] } }
  - { match: { path: "vault/**" }, labels: { confidentiality: secret } }
rules:
  - { id: vault-ok, allow: { destination: { path: "vault/**" } } }
`;

describe('revocation', () => {
  it('denies data derived from a revoked file anywhere, and allow rules cannot override it', () => {
    const f = fixture(`${PATIENTS}\nrevoked: ["data/patients/42.json"]`);
    const data = f.data('/srv/app/data/patients/42.json', '/srv/app/notes.txt');
    for (const to of ['/srv/app/vault/copy.json', '/srv/app/data/patients/43.json', 'https://api.example.com:443']) {
      expect(f.decide(data, to)).toEqual({
        kind: 'deny',
        rule: 'revoked',
        reason: 'data derives from file://n1/srv/app/data/patients/42.json, which is revoked, so it may not be written anywhere',
      });
    }
    expect(f.decide(f.data('/srv/app/data/patients/41.json'), '/srv/app/vault/copy.json')).toEqual({ kind: 'allow', rule: 'vault-ok' });
  });

  it('is retroactive: a set derived before the revocation is denied after it', () => {
    const before = fixture(PATIENTS, {}, 1);
    const data = before.data('/srv/app/data/patients/42.json');
    expect(before.decide(data, '/srv/app/vault/copy.json').kind).toBe('allow');
    // Reload with the revocation: same provenance set object, new policy (new epoch).
    const config = configFrom(`${PATIENTS}\nrevoked: ["data/patients/42.json"]`);
    const after = compilePolicy(config, before.schema, 2);
    expect(after.decide(data, before.registry.parse('/srv/app/vault/copy.json')).rule).toBe('revoked');
  });

  it('revoking a folder or a URI covers what is under it', () => {
    const f = fixture(`revoked: ["data/old/", "https://leaky.example.com:443"]`);
    expect(f.policy.isRevoked('/srv/app/data/old/a/b.json')).toBe(true);
    expect(f.policy.isRevoked('file://n1/srv/app/data/old')).toBe(true);
    expect(f.policy.isRevoked('/srv/app/data/older/b.json')).toBe(false);
    expect(f.policy.isRevoked('file://other-node/srv/app/data/old/a')).toBe(false);
    expect(f.policy.isRevoked('https://leaky.example.com:443')).toBe(true);
    expect(f.decide(f.data('https://leaky.example.com:443'), '/tmp/x').rule).toBe('revoked');
  });
});

describe('modes', () => {
  const yaml = `resources: [{ match: { path: "/s/**" }, labels: { confidentiality: secret } }]\nrules: [{ id: no-tmp, deny: { destination: { path: "/tmp/**" } }, message: nothing goes to /tmp }]`;

  it('enforce denies, audit records a violation with the same rule and reason, off allows', () => {
    const enforce = fixture(yaml);
    const audit = fixture(yaml, { PROVENANT_MODE: 'audit' });
    const off = fixture(yaml, { PROVENANT_MODE: 'off' });
    for (const to of ['/tmp/x', '/public/x']) {
      const denied = enforce.decide(enforce.data('/s/1'), to);
      expect(denied.kind).toBe('deny');
      expect(audit.decide(audit.data('/s/1'), to)).toEqual({ ...denied, kind: 'violation' });
      expect(off.decide(off.data('/s/1'), to)).toEqual({ kind: 'allow' });
    }
    expect(audit.decide(audit.data('/s/1'), '/s/2')).toEqual({ kind: 'allow' });
  });

  it('a fault while deciding fails closed in enforce mode and is a violation in audit mode', () => {
    const broken = { id: 987_654, sources: null, labels: null, origins: null } as unknown as ProvenanceSet;
    const enforce = fixture(yaml);
    const decision = enforce.decide(broken, '/s/x');
    expect(decision.kind).toBe('deny');
    expect(decision.rule).toBe('policy-fault');
    expect(decision.reason).toMatch(/^the policy engine failed \(.+\), so the flow is denied to fail closed$/);
    const audit = fixture(yaml, { PROVENANT_MODE: 'audit' });
    expect(audit.decide(broken, '/s/x')).toMatchObject({ kind: 'violation', rule: 'policy-fault' });
    // The fault is not memoised: a good set with the same id later decides normally.
    expect(enforce.decide({ ...enforce.data('/s/1'), id: 987_654 }, '/s/x').kind).toBe('allow');
  });
});

describe('decision memo', () => {
  it('returns the same decision object for a repeated (set, destination) within one policy', () => {
    const f = fixture(PATIENTS);
    const data = f.data('/srv/app/data/patients/1.json');
    // The memo admits a pair when it repeats (a one-off pair is not kept): the second decision is the one kept.
    f.decide(data, '/tmp/out');
    const kept = f.decide(data, '/tmp/out');
    expect(f.decide(data, '/tmp/out')).toBe(kept);
  });

  it('a new epoch is a new policy: no stale decision survives a reload', () => {
    const config = configFrom(PATIENTS);
    const schema = new LabelSchema();
    const f = fixtureFor(config, schema, compilePolicy(config, schema, 1));
    const data = f.data('/srv/app/data/patients/1.json');
    expect(f.decide(data, '/srv/app/vault/x').kind).toBe('allow');
    const stricter = compilePolicy(configFrom(`${PATIENTS.replace('vault-ok, allow', 'vault-ok, deny')}`), schema, 2);
    expect(stricter.epoch).toBe(2);
    expect(stricter.decide(data, f.registry.parse('/srv/app/vault/x')).kind).toBe('deny');
  });

  it('stays correct past the cache bound (evicted entries are recomputed)', () => {
    const f = fixture(PATIENTS);
    const secret = f.data('/srv/app/data/patients/1.json');
    const destinations = DECISION_CACHE_SIZE * 2;
    for (let i = 0; i < destinations; i++) f.decide(secret, `tcp://10.0.${i >> 8}.${i & 255}:${1000 + (i % 7)}`);
    expect(f.decide(secret, 'tcp://10.0.0.0:1000').rule).toBe('confidentiality');
    expect(f.decide(f.sets.empty, 'tcp://10.0.0.0:1000').kind).toBe('allow');
  });
});
