// Resource matchers (labelsOf), every data and destination condition, rule order and allow
// exceptions, with the reasons a person reads.
import { describe, expect, it } from 'vitest';
import { fixture } from './helpers.js';

describe('labelsOf: first matching resources entry, else defaults', () => {
  const f = fixture(`
location: eu-west-1
resources:
  - { match: { path: "data/patients/**" }, labels: { confidentiality: secret, integrity: high, tags: [pii] } }
  - { match: { path: "data/**" }, labels: { confidentiality: internal } }
  - { match: { host: "*.us.example.com" }, labels: { location: us-east-1 } }
  - { match: { host: "db.internal", port: 5432 }, labels: { confidentiality: secret } }
  - { match: { port: 6379 }, labels: { confidentiality: confidential } }
  - { match: { url: "https://api.partner.eu" }, labels: { confidentiality: confidential, location: eu-central-1 } }
  - { match: { url: "http://localhost" }, labels: { confidentiality: internal } }
  - { match: { service: analytics }, labels: { confidentiality: confidential, location: eu-west-1 } }
  - { match: { service: "billing-*" }, labels: { confidentiality: internal } }
`);
  const labels = (uri: string) => f.schema.toPublic(f.policy.labelsOf(f.registry.parse(uri)));

  it('path globs are relative to the config folder, first match wins, dotfiles included', () => {
    expect(labels('/srv/app/data/patients/1.json')).toEqual({
      confidentiality: 'secret',
      integrity: 'high',
      tags: ['pii'],
      locations: ['eu-west-1'],
    });
    expect(labels('/srv/app/data/patients/.hidden')).toMatchObject({ confidentiality: 'secret' });
    expect(labels('/srv/app/data/other.json')).toEqual({
      confidentiality: 'internal',
      integrity: 'low',
      tags: [],
      locations: ['eu-west-1'],
    });
    expect(labels('/srv/other/data/patients/1.json')).toEqual({
      confidentiality: 'public',
      integrity: 'low',
      tags: [],
      locations: ['eu-west-1'],
    });
  });

  it('host globs and ports match tcp and http(s) destinations', () => {
    expect(labels('https://api.us.example.com:443')).toMatchObject({ confidentiality: 'public', locations: ['us-east-1'] });
    expect(labels('tcp://a.b.us.example.com:9000')).toMatchObject({ locations: ['us-east-1'] });
    expect(labels('tcp://db.internal:5432')).toMatchObject({ confidentiality: 'secret' });
    expect(labels('tcp://db.internal:5433')).toMatchObject({ confidentiality: 'public' });
    expect(labels('tcp://cache:6379')).toMatchObject({ confidentiality: 'confidential' });
    // A network destination with no location claim has none (the node's location is for its files).
    expect(labels('tcp://cache:6380')).toEqual({ confidentiality: 'public', integrity: 'low', tags: [], locations: [] });
  });

  it('url matches an origin; without a port every port, never a longer host name', () => {
    expect(labels('https://api.partner.eu:443')).toMatchObject({ confidentiality: 'confidential', locations: ['eu-central-1'] });
    expect(labels('http://api.partner.eu:443')).toMatchObject({ confidentiality: 'public' });
    expect(labels('http://localhost:8080')).toMatchObject({ confidentiality: 'internal' });
    expect(labels('http://localhost.evil.com:80')).toMatchObject({ confidentiality: 'public' });
  });

  it('service names (globs) match service:// peers; a signed location applies when the entry gives none', () => {
    expect(labels('service://analytics')).toMatchObject({ confidentiality: 'confidential', locations: ['eu-west-1'] });
    expect(f.schema.toPublic(f.policy.labelsOf(f.registry.service('billing-eu', 'eu-central-1')))).toMatchObject({
      confidentiality: 'internal',
      locations: ['eu-central-1'],
    });
    expect(f.schema.toPublic(f.policy.labelsOf(f.registry.service('analytics', 'us-east-1')))).toMatchObject({ locations: ['eu-west-1'] });
    expect(f.schema.toPublic(f.policy.labelsOf(f.registry.service('stranger', 'ap-south-1')))).toMatchObject({
      confidentiality: 'public',
      locations: ['ap-south-1'],
    });
  });
});

describe('data conditions', () => {
  const f = fixture(`
resources:
  - { match: { path: "/in/secret/**" }, labels: { confidentiality: secret, integrity: high } }
  - { match: { path: "/in/pii/**" }, labels: { tags: [pii] } }
  - { match: { path: "/in/phi/**" }, labels: { tags: [phi] } }
  - { match: { path: "/in/eu/**" }, labels: { location: eu-west-1 } }
  - { match: { path: "/in/us/**" }, labels: { location: us-east-1 } }
  - { match: { path: "/out/**" }, labels: { confidentiality: secret } }
rules:
  - { id: conf-at-least-confidential, deny: { data: { confidentiality: { atLeast: confidential } }, destination: { path: "/out/conf/**" } } }
  - { id: conf-at-most-internal, deny: { data: { confidentiality: { atMost: internal } }, destination: { path: "/out/conf-low/**" } } }
  - { id: integ-at-most-low, deny: { data: { integrity: { atMost: low } }, destination: { path: "/out/integ/**" } } }
  - { id: integ-at-least-high, deny: { data: { integrity: { atLeast: high } }, destination: { path: "/out/integ-high/**" } } }
  - { id: tags-any, deny: { data: { tags: [pii, phi] }, destination: { path: "/out/any/**" } } }
  - { id: tags-all, deny: { data: { tags: { all: [pii, phi] } }, destination: { path: "/out/all/**" } } }
  - { id: sources-glob, deny: { data: { sources: ["/in/pii/**", "https://*.example.com:*"] }, destination: { path: "/out/src/**" } } }
  - { id: locations-in, deny: { data: { locations: { in: [us-east-1] } }, destination: { path: "/out/loc-in/**" } } }
  - { id: locations-not-in, deny: { data: { locations: { notIn: [eu-west-1] } }, destination: { path: "/out/loc-out/**" } } }
`);
  const deniedBy = (sources: string[], to: string): string | undefined => {
    const decision = f.decide(f.data(...sources), to);
    return decision.kind === 'allow' ? undefined : decision.rule;
  };

  it('confidentiality atLeast / atMost', () => {
    expect(deniedBy(['/in/secret/a'], '/out/conf/x')).toBe('conf-at-least-confidential');
    expect(deniedBy(['/in/plain'], '/out/conf/x')).toBeUndefined();
    expect(deniedBy(['/in/plain'], '/out/conf-low/x')).toBe('conf-at-most-internal');
    expect(deniedBy(['/in/secret/a'], '/out/conf-low/x')).toBeUndefined();
  });

  it('integrity atLeast / atMost', () => {
    expect(deniedBy(['/in/plain'], '/out/integ/x')).toBe('integ-at-most-low');
    expect(deniedBy(['/in/secret/a'], '/out/integ/x')).toBeUndefined();
    expect(deniedBy(['/in/secret/a'], '/out/integ-high/x')).toBe('integ-at-least-high');
    expect(deniedBy(['/in/plain'], '/out/integ-high/x')).toBeUndefined();
  });

  it('tags: a plain list means any; all needs every tag', () => {
    expect(deniedBy(['/in/pii/a'], '/out/any/x')).toBe('tags-any');
    expect(deniedBy(['/in/phi/a'], '/out/any/x')).toBe('tags-any');
    expect(deniedBy(['/in/plain'], '/out/any/x')).toBeUndefined();
    expect(deniedBy(['/in/pii/a'], '/out/all/x')).toBeUndefined();
    expect(deniedBy(['/in/pii/a', '/in/phi/b'], '/out/all/x')).toBe('tags-all');
  });

  it('sources: globs over paths (resolved to file URIs) and URIs', () => {
    expect(deniedBy(['/in/plain', '/in/pii/a'], '/out/src/x')).toBe('sources-glob');
    expect(deniedBy(['https://api.example.com:443'], '/out/src/x')).toBe('sources-glob');
    expect(deniedBy(['https://api.example.org:443', '/in/plain'], '/out/src/x')).toBeUndefined();
  });

  it('locations: in = some location listed; notIn = some location not listed; no location matches neither', () => {
    expect(deniedBy(['/in/us/a'], '/out/loc-in/x')).toBe('locations-in');
    expect(deniedBy(['/in/eu/a'], '/out/loc-in/x')).toBeUndefined();
    expect(deniedBy(['/in/eu/a', '/in/us/b'], '/out/loc-out/x')).toBe('locations-not-in');
    expect(deniedBy(['/in/eu/a'], '/out/loc-out/x')).toBeUndefined();
    expect(deniedBy(['/in/plain'], '/out/loc-out/x')).toBeUndefined();
  });

  it('the reason names the rule message (or id), the label, its source and the destination', () => {
    const decision = f.decide(f.data('/in/plain', '/in/pii/a'), '/out/any/x');
    expect(decision.reason).toBe(
      'rule "tags-any" denies this flow: data is tagged pii (from file://n1/in/pii/a); file://n1/out/any/x is secret',
    );
  });
});

describe('destination conditions', () => {
  const f = fixture(`
location: eu-west-1
resources:
  - { match: { path: "/in/pii/**" }, labels: { confidentiality: internal, tags: [pii] } }
  - { match: { path: "/out/secret/**" }, labels: { confidentiality: secret, integrity: high, tags: [vault] } }
  - { match: { path: "/out/local/**" }, labels: { confidentiality: secret } }
  - { match: { host: "*.us.example.com" }, labels: { confidentiality: secret, location: us-east-1 } }
  - { match: { host: "*.eu.example.com" }, labels: { confidentiality: secret, location: eu-central-1 } }
  - { match: { host: "*.example.com" }, labels: { confidentiality: secret } }
  - { match: { service: "*" }, labels: { confidentiality: secret } }
rules:
  - { id: no-tcp, deny: { data: { tags: [pii] }, destination: { kind: tcp } } }
  - { id: no-tmp, deny: { data: { tags: [pii] }, destination: { path: "/tmp/**" } } }
  - { id: no-metrics-host, deny: { data: { tags: [pii] }, destination: { host: "metrics.*" } } }
  - { id: no-port-25, deny: { data: { tags: [pii] }, destination: { port: 25 } } }
  - { id: no-ads-service, deny: { data: { tags: [pii] }, destination: { service: "ads*" } } }
  - { id: pii-stays-in-eu, deny: { data: { tags: [pii] }, destination: { location: { notIn: [eu-west-1, eu-central-1] } } }, message: PII must not leave the EU }
  - { id: vault-needs-high, deny: { data: { integrity: { atMost: low } }, destination: { labels: { tags: [vault], confidentiality: { atLeast: confidential } } } } }
`);
  const rule = (to: string, set = f.data('/in/pii/a')): string | undefined => f.decide(set, to).rule;

  it('kind, path, host, port and service', () => {
    expect(rule('tcp://10.0.0.2:9000')).toBe('no-tcp');
    expect(rule('/tmp/out')).toBe('no-tmp');
    expect(rule('https://metrics.eu.example.com:443')).toBe('no-metrics-host');
    expect(rule('http://mail.eu.example.com:25')).toBe('no-port-25');
    expect(rule('service://adserver')).toBe('no-ads-service');
  });

  it('location notIn: a known location outside the list, and an unknown location, both match', () => {
    const us = f.decide(f.data('/in/pii/a'), 'https://api.us.example.com:443');
    expect(us).toEqual({
      kind: 'deny',
      rule: 'pii-stays-in-eu',
      reason:
        'PII must not leave the EU: data is tagged pii (from file://n1/in/pii/a); https://api.us.example.com:443 is secret in us-east-1',
    });
    expect(f.decide(f.data('/in/pii/a'), 'https://api.example.com:443').reason).toBe(
      'PII must not leave the EU: data is tagged pii (from file://n1/in/pii/a); https://api.example.com:443 is secret with no known location',
    );
    expect(rule('https://api.eu.example.com:443')).toBeUndefined();
    // Local files are in the node's location.
    expect(rule('/out/local/x')).toBeUndefined();
    // A service's signed location counts.
    expect(f.decide(f.data('/in/pii/a'), f.registry.service('reports', 'eu-central-1')).kind).toBe('allow');
    expect(f.decide(f.data('/in/pii/a'), f.registry.service('reports', 'us-east-1')).rule).toBe('pii-stays-in-eu');
  });

  it('location in never matches an unknown location', () => {
    const g = fixture(`rules: [{ id: us-box, deny: { destination: { location: { in: [us-west-2] } } } }]`);
    expect(g.decide(g.sets.empty, g.registry.service('box', 'us-west-2')).rule).toBe('us-box');
    expect(g.decide(g.sets.empty, g.registry.service('box')).kind).toBe('allow');
    expect(g.decide(g.sets.empty, 'tcp://10.1.1.1:80').kind).toBe('allow');
  });

  it('labels of the destination', () => {
    expect(rule('/out/secret/x', f.labelled({ integrity: 'low' }))).toBe('vault-needs-high');
    expect(rule('/out/secret/x', f.labelled({ integrity: 'high' }))).toBeUndefined();
  });
});

describe('rule order and allow exceptions', () => {
  const f = fixture(`
resources:
  - { match: { path: "/in/**" }, labels: { confidentiality: secret, tags: [pii] } }
  - { match: { path: "/reports/**" }, labels: { confidentiality: public, integrity: high } }
rules:
  - id: export-allowed
    allow: { data: { tags: [pii] }, destination: { path: "/exports/**" } }
  - id: no-pii-public
    deny: { data: { tags: [pii] }, destination: { labels: { confidentiality: { atMost: public } } } }
    message: PII may not be published
  - id: also-no-pii-public
    deny: { data: { tags: [pii] }, destination: { labels: { confidentiality: { atMost: public } } } }
  - id: anything-to-backup
    allow: { destination: { path: "/backup/**" } }
`);

  it('the first matching rule decides', () => {
    expect(f.decide(f.data('/in/1'), '/reports/x')).toMatchObject({ kind: 'deny', rule: 'no-pii-public' });
    expect(f.decide(f.data('/in/1'), '/reports/x').reason).toMatch(
      /^PII may not be published: data is tagged pii \(from file:\/\/n1\/in\/1\); file:\/\/n1\/reports\/x is public$/,
    );
  });

  it('an allow rule is an exception that skips the built-in lattice', () => {
    expect(f.decide(f.data('/in/1'), '/exports/x')).toEqual({ kind: 'allow', rule: 'export-allowed' });
    expect(f.decide(f.labelled({ integrity: 'untrusted', confidentiality: 'secret' }), '/backup/x')).toEqual({
      kind: 'allow',
      rule: 'anything-to-backup',
    });
  });

  it('with no rule matching, the built-ins decide', () => {
    expect(f.decide(f.labelled({ confidentiality: 'secret' }), '/elsewhere/x').rule).toBe('confidentiality');
    expect(f.decide(f.labelled({ integrity: 'untrusted' }), '/reports/x').rule).toBe('integrity');
    expect(f.decide(f.labelled({ integrity: 'untrusted' }), '/elsewhere/x').kind).toBe('allow');
  });

  it('a rule without conditions matches every flow', () => {
    const g = fixture('rules: [{ id: lockdown, deny: {} }]');
    expect(g.decide(g.sets.empty, '/any/where')).toEqual({
      kind: 'deny',
      rule: 'lockdown',
      reason: 'rule "lockdown" denies this flow: any data; file://n1/any/where is public',
    });
  });
});
