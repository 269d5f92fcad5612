// Flow-context options: `granularity: process` (one context for everything, TracE2E's choice)
// and `inheritProcessContext` (request and run contexts start with what the process read).
import { describe, expect, it } from 'vitest';
import { FlowContexts } from '../../src/provenance/context.js';
import { LabelSchema, unionSorted } from '../../src/provenance/labels.js';
import { ProvenanceSets } from '../../src/provenance/provenance-set.js';

const schema = new LabelSchema();
const secret = schema.fromPublic({ confidentiality: 'secret' }, schema.neutral);

function setup(granularity: 'request' | 'process', inheritProcessContext: boolean) {
  const sets = new ProvenanceSets(schema.neutral);
  const contexts = new FlowContexts(sets, { granularity, inheritProcessContext });
  contexts.process.provenance = sets.withSource(sets.empty, 'file://n/etc/app/config.json', schema.neutral);
  return { sets, contexts };
}

describe('flow contexts', () => {
  it('request granularity: a run() context starts empty and its reads stay in it', () => {
    const { sets, contexts } = setup('request', false);
    const inside = contexts.runIn('run', () => {
      const ctx = contexts.current();
      ctx.provenance = sets.withSource(ctx.provenance, 'file://n/data/secret.json', secret);
      return ctx.provenance.sources;
    });
    expect(inside).toEqual(['file://n/data/secret.json']);
    expect(contexts.current().provenance.sources).toEqual(['file://n/etc/app/config.json']);
  });

  it('inheritProcessContext: a new context starts with the process context’s sources', () => {
    const { contexts } = setup('request', true);
    const inside = contexts.runIn('request', () => contexts.current().provenance.sources);
    expect(inside).toEqual(['file://n/etc/app/config.json']);
  });

  it('process granularity: every scope shares the process context, so nothing escapes it', () => {
    const { sets, contexts } = setup('process', false);
    contexts.runIn('request', () => {
      const ctx = contexts.current();
      expect(ctx).toBe(contexts.process);
      ctx.provenance = sets.withSource(ctx.provenance, 'file://n/data/secret.json', secret);
    });
    expect(contexts.current().provenance.sources).toEqual(['file://n/data/secret.json', 'file://n/etc/app/config.json']);
    expect(schema.toPublic(contexts.current().provenance.labels).confidentiality).toBe('secret');
  });
});

describe('interned provenance sets', () => {
  it('a set reached by unions, by added sources or built whole is one object, whatever the order', () => {
    const sets = new ProvenanceSets(schema.neutral);
    const uris = Array.from({ length: 40 }, (_, i) => `file://n/data/${String(i).padStart(2, '0')}.json`);
    // One source at a time in a scattered order, each joined as a one-source set (a read).
    let byUnion = sets.empty;
    for (let i = 0; i < uris.length; i++) {
      const uri = uris[(i * 7) % uris.length];
      byUnion = sets.union(byUnion, sets.of([uri], schema.neutral));
    }
    let byAdding = sets.empty;
    for (const uri of [...uris].reverse()) byAdding = sets.withSource(byAdding, uri, schema.neutral);
    // Overlapping halves joined both ways round.
    const halves = sets.union(sets.of(uris.slice(0, 25), schema.neutral), sets.of(uris.slice(15), schema.neutral));
    const whole = sets.of(uris, schema.neutral);
    expect(byUnion.sources).toEqual([...uris].sort());
    expect(byUnion).toBe(whole);
    expect(byAdding).toBe(whole);
    expect(halves).toBe(whole);
    expect(sets.union(whole, sets.of(uris.slice(3, 9), schema.neutral))).toBe(whole);
  });

  it('a few sources joined to a large set land in order, before, between and after, whichever side they are on', () => {
    const large = Array.from({ length: 100 }, (_, i) => `file://n/b/${String(i * 2 + 10).padStart(3, '0')}`);
    const small = ['file://n/a', 'file://n/b/011', 'file://n/b/050', 'file://n/b/051', 'file://n/b/209', 'file://n/c'];
    const expected = [...new Set([...large, ...small])].sort();
    expect(unionSorted(large, small)).toEqual(expected);
    expect(unionSorted(small, large)).toEqual(expected);
    // Already held: the large array itself comes back, so callers keep its interned set.
    expect(unionSorted(large, [large[0], large[57], large[99]])).toBe(large);
    expect(unionSorted([large[57]], large)).toBe(large);
  });
});
