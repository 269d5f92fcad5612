// A node's labels come from allowed flows and the resource's own labels, never from a denied
// attempt: an attacker's refused overwrite must not relabel the record it tried to overwrite.
import { afterAll, expect, it } from 'vitest';
import { buildLineage } from '../../src/journal/lineage.js';
import { resourceMatcher } from '../../src/journal/resource-match.js';
import { openJournal } from '../../src/journal/writer.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { flowEvent, journalConfig } from './helpers.js';

afterAll(cleanupTempDirs);

const record = 'file://n1/clinic/patients/p-1001.json';
const extract = 'file://n1/clinic/exports/cohort.json';
const attacker = 'tcp://127.0.0.1:35280';
const secret = { confidentiality: 'secret', integrity: 'high', tags: ['pii'], locations: ['eu-west-1'] };
const untrusted = { confidentiality: 'public', integrity: 'untrusted', tags: [], locations: [] };

function journalWithDeniedOverwrite(): string {
  const state = tempDir('provenant-lineage-labels-');
  const journal = openJournal({ stateDir: state, config: journalConfig(), service: 'clinic', node: 'n1', pid: 1 });
  journal.append(flowEvent(1, { op: 'read', resource: record, sources: [record], labels: secret, decision: undefined }));
  journal.append(flowEvent(2, { resource: extract, sources: [record], labels: secret }));
  // Later, an unsigned upload tries to overwrite the record and is refused.
  journal.append(flowEvent(3, { op: 'read', resource: attacker, sources: [attacker], labels: untrusted, decision: undefined }));
  journal.append(
    flowEvent(4, {
      resource: record,
      sources: [attacker],
      labels: untrusted,
      decision: 'deny',
      rule: 'integrity',
      reason: 'untrusted data',
    }),
  );
  journal.close();
  return state;
}

it('labels a node from allowed flows and its own reads, not from a later denied write', () => {
  const state = journalWithDeniedOverwrite();
  const upstream = buildLineage([state], resourceMatcher(extract), 'upstream');
  expect(upstream.nodes).toContainEqual({ resource: record, labels: secret });
  // The denied attempt moved nothing: no edge from the attacker.
  expect(upstream.edges.map((edge) => edge.from)).toEqual([record]);
});

it('lists denied attempts against the graph separately, with rule and reason', () => {
  const state = journalWithDeniedOverwrite();
  const upstream = buildLineage([state], resourceMatcher(extract), 'upstream');
  expect(upstream.denials).toEqual([
    expect.objectContaining({
      from: attacker,
      to: record,
      service: 'clinic',
      rule: 'integrity',
      reason: 'untrusted data',
      labels: untrusted,
    }),
  ]);
  // Downstream of the attacker's connection, the refused write is what it tried.
  const downstream = buildLineage([state], resourceMatcher(attacker), 'downstream');
  expect(downstream.edges).toEqual([]);
  expect(downstream.denials.map((d) => d.to)).toEqual([record]);
});
