// Built-in lattice: no write down (confidentiality) and no write up (integrity, only where the
// destination's integrity is set explicitly), for every pair of levels, default and custom.
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIDENTIALITY_LEVELS, DEFAULT_INTEGRITY_LEVELS } from '../../src/config/defaults.js';
import { fixture } from './helpers.js';

const CUSTOM = { confidentiality: ['green', 'amber', 'red'], integrity: ['unknown', 'vetted', 'signed', 'audited'] };

function latticeConfig(levels: { confidentiality: readonly string[]; integrity: readonly string[] }, custom: boolean): string {
  const lines = custom
    ? [`levels:`, `  confidentiality: [${levels.confidentiality.join(', ')}]`, `  integrity: [${levels.integrity.join(', ')}]`]
    : [];
  lines.push('resources:');
  for (const level of levels.confidentiality)
    lines.push(`  - { match: { path: "/dst/conf/${level}/**" }, labels: { confidentiality: ${level} } }`);
  for (const level of levels.integrity) {
    lines.push(
      `  - { match: { path: "/dst/integ/${level}/**" }, labels: { confidentiality: ${levels.confidentiality.at(-1)}, integrity: ${level} } }`,
    );
  }
  return lines.join('\n');
}

for (const [name, levels, custom] of [
  ['default levels', { confidentiality: DEFAULT_CONFIDENTIALITY_LEVELS, integrity: DEFAULT_INTEGRITY_LEVELS }, false],
  ['custom levels', CUSTOM, true],
] as const) {
  describe(`lattice with ${name}`, () => {
    const f = fixture(latticeConfig(levels, custom));

    describe('confidentiality: data may flow only to a destination at least as confidential', () => {
      for (const [d, dataLevel] of levels.confidentiality.entries()) {
        for (const [w, destLevel] of levels.confidentiality.entries()) {
          it(`${dataLevel} → ${destLevel}: ${d <= w ? 'allow' : 'deny'}`, () => {
            const decision = f.decide(f.labelled({ confidentiality: dataLevel }), `/dst/conf/${destLevel}/out.json`);
            if (d <= w) expect(decision).toEqual({ kind: 'allow' });
            else {
              expect(decision.kind).toBe('deny');
              expect(decision.rule).toBe('confidentiality');
              expect(decision.reason).toBe(
                `data is ${dataLevel} (from test://origin) but file://n1/dst/conf/${destLevel}/out.json is ${destLevel}`,
              );
            }
          });
        }
      }
    });

    describe('integrity: data may flow only to a destination that requires no more integrity than it has', () => {
      for (const [d, dataLevel] of levels.integrity.entries()) {
        for (const [w, destLevel] of levels.integrity.entries()) {
          it(`${dataLevel} → ${destLevel}: ${d >= w ? 'allow' : 'deny'}`, () => {
            const decision = f.decide(f.labelled({ integrity: dataLevel }), `/dst/integ/${destLevel}/out.json`);
            if (d >= w) expect(decision.kind).toBe('allow');
            else {
              expect(decision.rule).toBe('integrity');
              expect(decision.reason).toBe(
                `data has ${dataLevel} integrity (from test://origin) but file://n1/dst/integ/${destLevel}/out.json accepts only ${destLevel} integrity or higher`,
              );
            }
          });
        }
      }
    });

    it('an unlabeled destination gets the default confidentiality and no integrity requirement', () => {
      const lowest = levels.confidentiality[0];
      expect(f.decide(f.labelled({ confidentiality: lowest, integrity: levels.integrity[0] }), '/elsewhere/x').kind).toBe('allow');
      expect(f.decide(f.labelled({ confidentiality: levels.confidentiality[1] }), '/elsewhere/x')).toMatchObject({
        kind: 'deny',
        rule: 'confidentiality',
      });
      expect(f.decide(f.labelled({ confidentiality: levels.confidentiality[1] }), 'https://unknown.example.com:443')).toMatchObject({
        kind: 'deny',
        rule: 'confidentiality',
      });
    });
  });
}

describe('labels of sources join as data flows', () => {
  const f = fixture(`
resources:
  - { match: { path: "/a/**" }, labels: { confidentiality: secret, integrity: high, tags: [pii] } }
  - { match: { path: "/b/**" }, labels: { confidentiality: internal, integrity: untrusted, tags: [phi] } }
`);
  it('confidentiality is the max, integrity the min, tags the union, and origins name the carrier', () => {
    const data = f.data('/a/1', '/b/2');
    expect(f.schema.toPublic(data.labels)).toEqual({
      confidentiality: 'secret',
      integrity: 'untrusted',
      tags: ['phi', 'pii'],
      locations: [],
    });
    expect(data.origins.confidentiality).toBe('file://n1/a/1');
    expect(data.origins.integrity).toBe('file://n1/b/2');
    expect(data.origins.tags).toEqual({ pii: 'file://n1/a/1', phi: 'file://n1/b/2' });
  });

  it('built-in defaults (no config) allow unlabeled data anywhere and deny nothing else', () => {
    const d = fixture('');
    expect(d.decide(d.data('/x/1', 'https://api.example.com:443'), '/y/2').kind).toBe('allow');
    expect(d.decide(d.data('/x/1'), 'tcp://10.0.0.1:9000').kind).toBe('allow');
  });
});
