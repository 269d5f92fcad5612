// `provenant lineage | query | stats | verify` on journals written by three processes: two
// services on node n1 sharing one state dir, and an archiver on node n2 with its own.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowRecord } from '../../src/engine/flow-record.js';
import type { Lineage } from '../../src/journal/lineage.js';
import type { QueryResult, Stats } from '../../src/journal/query.js';
import { repoRoot, runNode } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { ed25519, fixtures, journalConfig } from './helpers.js';

const PATIENT = 'file://n1/data/patients/42.json';
const REPORT = 'file://n1/tmp/report.csv';
const SUMMARY = 'file://n1/tmp/summary.json';
const ARCHIVE = 'file://n2/archive/summary.json';
const US = 'https://analytics.us.example.com:443';
const EU = 'https://eu.example.com:443';
const secret = { confidentiality: 'secret', integrity: 'high', tags: ['pii'], locations: ['eu-west-1'] };

const now = Date.now();
const minutesAgo = (m: number, s = 0): number => now - m * 60_000 + s * 1000;

const patients: FlowRecord[] = [
  { time: minutesAgo(120), op: 'read', resource: PATIENT, sources: [PATIENT], labels: secret, user: 'alice', traceId: 't1' },
  {
    time: minutesAgo(120, 1),
    op: 'write',
    resource: REPORT,
    sources: [PATIENT],
    labels: secret,
    decision: 'allow',
    user: 'alice',
    traceId: 't1',
    bytes: 120,
  },
];
const analytics: FlowRecord[] = [
  { time: minutesAgo(30), op: 'read', resource: REPORT, sources: [PATIENT, REPORT], labels: secret, user: 'bob', traceId: 't2' },
  {
    time: minutesAgo(30, 1),
    op: 'write',
    resource: US,
    sources: [PATIENT, REPORT],
    labels: secret,
    decision: 'deny',
    rule: 'pii-stays-in-eu',
    reason: 'PII must not leave the EU',
    user: 'bob',
    traceId: 't2',
  },
  {
    time: minutesAgo(30, 2),
    op: 'write',
    resource: SUMMARY,
    sources: [PATIENT, REPORT],
    labels: secret,
    decision: 'allow',
    user: 'bob',
    traceId: 't2',
  },
  {
    time: minutesAgo(30, 3),
    op: 'write',
    resource: EU,
    sources: [SUMMARY],
    labels: secret,
    decision: 'violation',
    rule: 'audit-only',
    user: 'bob',
    traceId: 't2',
  },
];
const archiver: FlowRecord[] = [
  { time: minutesAgo(5), op: 'copy', resource: ARCHIVE, sources: [SUMMARY], labels: secret, decision: 'allow' },
  {
    time: minutesAgo(4),
    op: 'record',
    action: 'model.trained',
    resource: 'model://risk',
    sources: [ARCHIVE],
    labels: secret,
    decision: 'allow',
    user: 'carol',
  },
];

let n1 = '';
let n2 = '';

async function write(stateDir: string, service: string, node: string, events: FlowRecord[]): Promise<void> {
  const job = { stateDir, service, node, events, config: journalConfig(), signingKey: ed25519().privatePem };
  const result = await runNode({ args: [path.join(fixtures, 'append.mjs')], env: { JOURNAL_JOB: JSON.stringify(job) } });
  expect(result.code, result.stderr).toBe(0);
  expect(JSON.parse(result.stdout)).toEqual({ lostRecords: 0 });
}

async function provenant(...args: string[]): Promise<string> {
  const result = await runNode({ args: [path.join(repoRoot, 'dist', 'cli', 'main.js'), ...args] });
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
}

const json = async <T>(...args: string[]): Promise<T> => JSON.parse(await provenant(...args, '--json')) as T;

beforeAll(async () => {
  n1 = tempDir('provenant-n1-');
  n2 = tempDir('provenant-n2-');
  await Promise.all([
    write(n1, 'patients', 'n1', patients),
    write(n1, 'analytics', 'n1', analytics),
    write(n2, 'archiver', 'n2', archiver),
  ]);
});
afterAll(cleanupTempDirs);

describe('provenant verify', () => {
  it('passes over both state dirs', async () => {
    expect(await provenant('verify', '--state', n1, '--state', n2)).toMatch(
      /^OK: 3 log\(s\), 3 segment\(s\), 8 record\(s\), 0 failure\(s\), 0 warning\(s\)$/m,
    );
  });
});

describe('provenant lineage', () => {
  it('upstream of a path: its transitive sources across services', async () => {
    const graph = await json<Lineage>('lineage', '/tmp/summary.json', '--upstream', '--state', n1, '--state', n2);
    expect(graph).toEqual({
      resource: SUMMARY,
      direction: 'upstream',
      nodes: [
        { resource: SUMMARY, labels: secret },
        { resource: PATIENT, labels: secret },
        { resource: REPORT, labels: secret },
      ],
      edges: [
        { from: PATIENT, to: REPORT, time: new Date(minutesAgo(120, 1)).toISOString(), service: 'patients', traceId: 't1' },
        { from: PATIENT, to: SUMMARY, time: new Date(minutesAgo(30, 2)).toISOString(), service: 'analytics', traceId: 't2' },
        { from: REPORT, to: SUMMARY, time: new Date(minutesAgo(30, 2)).toISOString(), service: 'analytics', traceId: 't2' },
      ],
      denials: [],
    });
  });

  it('downstream of a URI: everything derived, across nodes; a denied flow moved nothing', async () => {
    const graph = await json<Lineage>('lineage', PATIENT, '--downstream', '--state', n1, '--state', n2);
    expect(graph.resource).toBe(PATIENT);
    expect(graph.direction).toBe('downstream');
    expect(graph.nodes.map((n) => n.resource)).toEqual([PATIENT, REPORT, SUMMARY, ARCHIVE, EU, 'model://risk']);
    expect(graph.nodes.find((n) => n.resource === EU)!.labels).toEqual(secret);
    expect(graph.edges.map((e) => `${e.from} -> ${e.to}`)).not.toContain(`${PATIENT} -> ${US}`);
    expect(graph.denials.map((d) => `${d.from} -> ${d.to} ${d.rule}`)).toEqual([
      `${PATIENT} -> ${US} pii-stays-in-eu`,
      `${REPORT} -> ${US} pii-stays-in-eu`,
    ]);
    expect(graph.edges.find((e) => e.to === 'model://risk')).toMatchObject({ from: ARCHIVE, service: 'archiver', traceId: null });

    const oneNode = await json<Lineage>('lineage', PATIENT, '--downstream', '--state', n1);
    expect(oneNode.nodes.map((n) => n.resource)).toEqual([PATIENT, REPORT, SUMMARY, EU]);
  });

  it('the default direction is upstream, and a path can be pinned to a node', async () => {
    expect((await json<Lineage>('lineage', '/archive/summary.json', '--state', n1, '--state', n2)).nodes.map((n) => n.resource)).toEqual([
      ARCHIVE,
      PATIENT,
      REPORT,
      SUMMARY,
    ]);
    const pinned = await json<Lineage>('lineage', '/archive/summary.json', '--node', 'n1', '--state', n1, '--state', n2);
    expect(pinned).toEqual({ resource: 'file://n1/archive/summary.json', direction: 'upstream', nodes: [], edges: [], denials: [] });
  });

  it('renders DOT and Mermaid with short names, a cluster per node, colour by label and no implied edges', async () => {
    const dot = await provenant('lineage', '/tmp/summary.json', '--dot', '--state', n1);
    expect(dot).toMatch(/^digraph lineage \{/);
    expect(dot).toContain('    label="node n1"; style=dashed; color="#999999"; fontsize=10;');
    expect(dot).toContain(
      `    n0 [label="tmp/summary.json\\nsecret · high · pii", tooltip="${SUMMARY}", fillcolor="#f8c8c8", penwidth=2];`,
    );
    // patient → report → summary; the direct patient → summary edge is implied by that path.
    expect(dot.split('\n').filter((line) => line.includes(' -> '))).toEqual([
      '  n1 -> n2 [label="patients"];',
      '  n2 -> n0 [label="analytics"];',
    ]);

    const mermaid = await provenant('lineage', '/tmp/summary.json', '--mermaid', '--state', n1);
    expect(mermaid.trimEnd().split('\n')).toEqual([
      'flowchart LR',
      '  subgraph g0["node n1"]',
      '    n0["tmp/summary.json<br/>secret · high · pii"]',
      '    n1["patients/42.json<br/>secret · high · pii"]',
      '    n2["tmp/report.csv<br/>secret · high · pii"]',
      '  end',
      '  classDef c0 fill:#f8c8c8,stroke:#555',
      '  class n0,n1,n2 c0',
      '  n1 -->|patients| n2',
      '  n2 -->|analytics| n0',
    ]);
  });

  it('draws denied attempts as red dashed edges with their rule', async () => {
    const dot = await provenant('lineage', PATIENT, '--downstream', '--dot', '--state', n1);
    const denied = dot.split('\n').filter((line) => line.includes('style=dashed, color="#d62728"'));
    expect(denied).toHaveLength(2);
    expect(denied[0]).toContain('label="denied: pii-stays-in-eu"');
    expect(dot).toContain(`tooltip="${US}"`);
    const mermaid = await provenant('lineage', PATIENT, '--downstream', '--mermaid', '--state', n1);
    expect(mermaid).toMatch(/ n0 -\.->\|"denied: pii-stays-in-eu"\| n\d+\n {2}linkStyle \d+ stroke:#d62728,color:#d62728/);
  });

  it('renders text', async () => {
    const text = await provenant('lineage', '/tmp/summary.json', '--state', n1);
    expect(text).toContain(`upstream lineage of ${SUMMARY}`);
    expect(text).toContain(`  ${REPORT} -> ${SUMMARY}  (`);
  });
});

describe('provenant query', () => {
  const query = (...args: string[]) => json<QueryResult>('query', '--state', n1, '--state', n2, ...args);

  it('filters by user, newest first', async () => {
    const result = await query('--user', 'bob');
    expect(result.total).toBe(4);
    expect(result.records.map((r) => r.resource)).toEqual([EU, SUMMARY, US, REPORT]);
    expect(result.records[0]).toMatchObject({ service: 'analytics', node: 'n1', user: 'bob', decision: 'violation', rule: 'audit-only' });
  });

  it('filters by decision, resource (as resource or source) and time', async () => {
    expect((await query('--decision', 'deny')).records).toMatchObject([
      { resource: US, rule: 'pii-stays-in-eu', reason: 'PII must not leave the EU' },
    ]);
    expect((await query('--resource', '/tmp/report.csv')).total).toBe(4);
    expect((await query('--resource', ARCHIVE)).records.map((r) => r.op)).toEqual(['record', 'copy']);
    expect((await query('--since', '1h')).total).toBe(6);
    expect((await query('--until', '1h')).records.map((r) => r.service)).toEqual(['patients', 'patients']);
    expect(
      (await query('--since', new Date(minutesAgo(31)).toISOString(), '--until', '10m', '--decision', 'allow')).records.map(
        (r) => r.resource,
      ),
    ).toEqual([SUMMARY]);
  });

  it('pages', async () => {
    const page2 = await query('--limit', '3', '--page', '2');
    expect(page2).toMatchObject({ total: 8, page: 2, limit: 3 });
    expect(page2.records.map((r) => r.resource)).toEqual([SUMMARY, US, REPORT]);
  });

  it('prints a readable list, and rejects a bad decision with exit 64', async () => {
    const text = await provenant('query', '--state', n1, '--decision', 'deny');
    expect(text).toMatch(/^1 record\(s\), page 1 of 1$/m);
    expect(text).toContain(`analytics[`);
    expect(text).toContain(`write deny(pii-stays-in-eu) ${US} [secret high tags=pii loc=eu-west-1] user=bob`);
    const bad = await runNode({ args: [path.join(repoRoot, 'dist', 'cli', 'main.js'), 'query', '--decision', 'maybe', '--state', n1] });
    expect(bad.code).toBe(64);
    expect(bad.stderr).toMatch(/--decision must be one of allow, deny, violation/);
  });
});

describe('provenant stats', () => {
  it('most used resources, flows by label, denials by rule', async () => {
    const stats = await json<Stats>('stats', '--state', n1, '--state', n2);
    expect(stats.records).toBe(8);
    expect(stats.byOp).toEqual({ read: 2, write: 4, copy: 1, record: 1 });
    expect(stats.byDecision).toEqual({ allow: 4, deny: 1, violation: 1 });
    expect(stats.topResources[0]).toEqual({ resource: PATIENT, records: 5 });
    expect(stats.flowsByLabel).toEqual([{ labels: 'confidentiality=secret;integrity=high;tags=pii;locations=eu-west-1', records: 8 }]);
    expect(stats.denialsByRule).toEqual([
      { rule: 'audit-only', deny: 0, violation: 1 },
      { rule: 'pii-stays-in-eu', deny: 1, violation: 0 },
    ]);
    expect((await json<Stats>('stats', '--since', '1h', '--state', n1, '--state', n2)).records).toBe(6);
    const text = await provenant('stats', '--state', n1);
    expect(text).toContain('pii-stays-in-eu: 1 denied, 0 violation(s)');
  });
});
