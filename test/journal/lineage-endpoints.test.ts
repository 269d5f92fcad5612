// Network endpoints are leaves of the lineage walk: data sent to an endpoint by one service is
// not what another service later read from the same endpoint.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { buildLineage } from '../../src/journal/lineage.js';
import { resourceMatcher } from '../../src/journal/resource-match.js';
import { openJournal } from '../../src/journal/writer.js';
import { flowEvent, journalConfig } from './helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

it('does not chain two services through the endpoint both talked to', () => {
  const state = mkdtempSync(path.join(tmpdir(), 'provenant-lineage-'));
  dirs.push(state);
  const journal = openJournal({ stateDir: state, config: journalConfig(), service: 'demo', node: 'n1', pid: 1 });
  const billing = 'http://127.0.0.1:7303';
  // The clinic sends its usage figures to billing...
  journal.append(flowEvent(1, { resource: billing, sources: ['file://n1/clinic/usage.json'] }));
  // ...and research reads billing's tariffs from the same origin into its report.
  journal.append(flowEvent(2, { resource: 'file://n1/research/report.json', sources: [billing, 'file://n1/research/cohort.json'] }));
  journal.close();

  const upstream = buildLineage([state], resourceMatcher('file://n1/research/report.json'), 'upstream');
  const nodes = upstream.nodes.map((node) => node.resource);
  expect(nodes).toContain(billing);
  expect(nodes).toContain('file://n1/research/cohort.json');
  expect(nodes).not.toContain('file://n1/clinic/usage.json');

  // Asked about the endpoint itself, the walk does expand it.
  const intoBilling = buildLineage([state], resourceMatcher(billing), 'upstream');
  expect(intoBilling.nodes.map((node) => node.resource)).toContain('file://n1/clinic/usage.json');
});

it('matches a URI argument in the form the journal records it (default port made explicit)', () => {
  expect(resourceMatcher('https://api.example.com').matches('https://api.example.com:443')).toBe(true);
  expect(resourceMatcher('http://127.0.0.1:7303').matches('http://127.0.0.1:7303')).toBe(true);
  expect(resourceMatcher('file://n1/srv/a.json').matches('file://n1/srv/a.json')).toBe(true);
});
