// The drawn lineage: transitive reduction (never cutting the only path), short names, groups,
// and upstream and downstream merged with denied attempts.
import { expect, it } from 'vitest';
import type { Lineage } from '../../src/journal/lineage.js';
import { lineageView, shortName, transitiveReduction } from '../../src/ui/lineage-view.js';

const edge = (from: string, to: string): { from: string; to: string } => ({ from, to });

it('leaves out an edge implied by a longer path, and keeps edges whose only path they are', () => {
  expect(transitiveReduction([edge('a', 'b'), edge('b', 'c'), edge('a', 'c')])).toEqual([edge('a', 'b'), edge('b', 'c')]);
  // c → d → c is a cycle: a → c is still the only way from a to c.
  expect(transitiveReduction([edge('a', 'c'), edge('c', 'd'), edge('d', 'c')])).toHaveLength(3);
  // a → b and a → c, with nothing between b and c: both stay.
  expect(transitiveReduction([edge('a', 'b'), edge('a', 'c')])).toHaveLength(2);
});

it('names files by their last two path parts and endpoints without the scheme', () => {
  expect(shortName('file://eu-clinic-1/srv/clinic/data/patients/p-1001.json')).toBe('patients/p-1001.json');
  expect(shortName('file://n1/a.json')).toBe('a.json');
  expect(shortName('http://127.0.0.1:8080')).toBe('127.0.0.1:8080');
  expect(shortName('service://research')).toBe('research');
  expect(shortName('tcp://10.0.0.1:25')).toBe('tcp://10.0.0.1:25');
});

it('merges upstream and downstream, groups by node or service, and adds nodes seen only in denials', () => {
  const labels = { confidentiality: 'secret', integrity: 'high', tags: ['pii'], locations: [] };
  const flow = { time: '2026-11-01T12:00:00.000Z', service: 'clinic', traceId: 't1' };
  const upstream: Lineage = {
    resource: 'file://n1/x/extract.json',
    direction: 'upstream',
    nodes: [
      { resource: 'file://n1/x/extract.json', labels },
      { resource: 'file://n1/x/record.json', labels },
    ],
    edges: [{ from: 'file://n1/x/record.json', to: 'file://n1/x/extract.json', ...flow }],
    denials: [],
  };
  const downstream: Lineage = {
    resource: 'file://n1/x/extract.json',
    direction: 'downstream',
    nodes: [
      { resource: 'file://n1/x/extract.json', labels },
      { resource: 'service://research', labels: null },
    ],
    edges: [{ from: 'file://n1/x/extract.json', to: 'service://research', ...flow }],
    denials: [
      { from: 'file://n1/x/extract.json', to: 'https://us.example.com:443', ...flow, rule: 'pii-stays-in-eu', reason: 'PII', labels },
    ],
  };
  const view = lineageView([upstream, downstream]);
  expect(view.nodes.map((n) => [n.id, n.group, n.depth, n.attemptOnly])).toEqual([
    ['file://n1/x/extract.json', 'node n1', 0, false],
    ['file://n1/x/record.json', 'node n1', -1, false],
    ['service://research', 'service clinic', 1, false],
    ['https://us.example.com:443', 'service clinic', 2, true],
  ]);
  expect(view.edges.map((e) => `${e.from} -> ${e.to} ${e.services.join()}`)).toEqual([
    'file://n1/x/record.json -> file://n1/x/extract.json clinic',
    'file://n1/x/extract.json -> service://research clinic',
  ]);
  expect(view.denials.map((d) => d.rule)).toEqual(['pii-stays-in-eu']);
});
