// OpenLineage export: a real service under the preload writes its journal; `provenant export
// --openlineage` and the `journal.openlineage` worker send it to a real receiver that validates
// every event and facet against the vendored OpenLineage JSON Schemas.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tagsFacet, type Dataset, type RunEvent } from '../../src/openlineage/facets.js';
import { postEvent } from '../../src/openlineage/post.js';
import { OpenLineageReceiver } from '../helpers/openlineage-receiver.js';
import { closedPort } from '../helpers/ports.js';
import { repoRoot, runNode, startNode, stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

const cli = path.join(repoRoot, 'dist', 'cli', 'main.js');
const app = path.join(__dirname, 'apps', 'reports.cjs');
const REPORT_JOB = 'reports GET /reports/{id}';
const secret = { confidentiality: 'secret', integrity: 'high', tags: ['pii'], locations: ['eu-west-1'] };

let receiver: OpenLineageReceiver;
let url: string;

beforeEach(async () => {
  receiver = new OpenLineageReceiver();
  url = await receiver.start();
});
afterEach(async () => {
  await stopAll();
  await receiver.close();
});
afterAll(cleanupTempDirs);

function workDir(openlineage?: string): { dir: string; state: string } {
  const dir = tempDir('provenant-ol-');
  for (const sub of ['data/patients', 'public', 'out']) mkdirSync(path.join(dir, sub), { recursive: true });
  for (const id of [42, 43]) writeFileSync(path.join(dir, 'data', 'patients', `${id}.json`), `{"id":${id},"name":"Ada"}`);
  writeFileSync(path.join(dir, 'public', 'notes.txt'), 'opening hours');
  writeFileSync(
    path.join(dir, 'provenant.yaml'),
    [
      'service: reports',
      'node: n1',
      'location: eu-west-1',
      'resources:',
      '  - match: { path: "data/patients/**" }',
      '    labels: { confidentiality: secret, integrity: high, tags: [pii] }',
      '  - match: { path: "out/**" }',
      '    labels: { confidentiality: secret }',
      'journal:',
      '  repeatWindowMs: 0',
      ...(openlineage ? [`  openlineage: { url: "${openlineage}", namespace: clinic }`] : []),
      '',
    ].join('\n'),
  );
  return { dir, state: path.join(dir, 'state') };
}

/** Runs the service, asks for the given reports and stops it through /quit. */
async function serve(dir: string, state: string, reports: number[]): Promise<void> {
  const sink = `http://127.0.0.9:${await closedPort()}/collect`;
  const service = startNode({
    args: [app],
    cwd: dir,
    preload: 'require',
    env: { PROVENANT_STATE_DIR: state, WORK_DIR: dir, SINK_URL: sink, PROVENANT_API: path.join(repoRoot, 'dist', 'index.js') },
  });
  const [, port] = await service.waitForLine(/^port (\d+)$/);
  for (const id of reports) expect((await fetch(`http://127.0.0.1:${port}/reports/${id}`)).status).toBe(403);
  await (await fetch(`http://127.0.0.1:${port}/quit`)).text();
  expect(await service.exited).toEqual({ code: 0, signal: null });
  expect(service.stdoutLines.filter((line) => line.startsWith('denied'))).toEqual(reports.map(() => 'denied confidentiality'));
}

const completes = (job: string): RunEvent[] => receiver.events.filter((e) => e.eventType === 'COMPLETE' && e.job.name === job);
const named = (datasets: Dataset[], name: string): Dataset | undefined => datasets.find((d) => d.name === name);
const outputFor = (dir: string, id: number) => (e: RunEvent) =>
  e.eventType === 'COMPLETE' && named(e.outputs, path.join(dir, 'out', `report-${id}.json`)) !== undefined;

describe('provenant export --openlineage', () => {
  it('sends one valid START and COMPLETE per request and run() scope, with per-output lineage, tags and decisions', async () => {
    const { dir, state } = workDir();
    await serve(dir, state, [42, 43]);

    const exported = await runNode({ args: [cli, 'export', '--openlineage', url, '--state', state, '--since', '1h', '--json'] });
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    const summary = JSON.parse(exported.stdout) as { url: string; runs: number; events: number; sent: number };
    expect(summary.url).toBe(`${url}/api/v1/lineage`);
    expect(summary.sent).toBe(summary.events);
    expect(receiver.problems).toEqual([]);
    expect(receiver.events).toHaveLength(summary.events);
    expect(receiver.events.filter((e) => e.eventType === 'START')).toHaveLength(summary.runs);

    // One run per request, each under the route's job, in the default namespace.
    const requests = completes(REPORT_JOB);
    expect(requests).toHaveLength(2);
    expect(new Set(requests.map((e) => e.run.runId)).size).toBe(2);
    expect(requests.every((e) => e.job.namespace === 'provenant')).toBe(true);
    const run42 = requests.find(outputFor(dir, 42))!;
    const patient = { namespace: 'file://n1', name: path.join(dir, 'data', 'patients', '42.json') };
    const report = named(run42.outputs, path.join(dir, 'out', 'report-42.json'))!;
    expect(report.namespace).toBe('file://n1');
    expect(report.facets?.lineage?.inputs).toContainEqual({ ...patient, type: 'DATASET' });
    expect(report.facets?.tags?.tags).toContainEqual({ key: 'pii', value: 'true', source: 'provenant' });
    expect(report.facets?.tags?.tags).toContainEqual({ key: 'confidentiality', value: 'secret', source: 'provenant' });
    expect(report.facets?.provenant).toMatchObject({ decision: 'allow', records: 1 });
    expect(report.facets?.provenant?.policy).toMatch(/^sha256:/);
    expect(named(run42.inputs, patient.name)?.facets?.tags?.tags).toContainEqual({ key: 'pii', value: 'true', source: 'provenant' });
    // Denied flows moved nothing: listed on the run, never outputs.
    const denials = run42.run.facets?.provenant.denials ?? [];
    expect(denials.map((d) => d.rule)).toEqual(['confidentiality', 'confidentiality']);
    expect(denials.map((d) => d.destination)).toContain('tcp://127.0.0.1');
    expect(denials.some((d) => d.destination.startsWith('http://127.0.0.9:'))).toBe(true);
    expect(run42.outputs.some((d) => d.namespace.startsWith('http://127.0.0.9') || d.namespace === 'tcp://127.0.0.1')).toBe(false);
    expect(run42.run.facets?.provenant.traceId).toMatch(/^[0-9a-f]{32}$/);

    // The run() scope is a run of the service's job.
    const scope = completes('reports').find((e) => named(e.outputs, path.join(dir, 'out', 'notes-copy.txt')));
    expect(named(scope!.outputs, path.join(dir, 'out', 'notes-copy.txt'))?.facets?.lineage?.inputs).toContainEqual({
      namespace: 'file://n1',
      name: path.join(dir, 'public', 'notes.txt'),
      type: 'DATASET',
    });
    expect(completes('reports GET /quit')).toHaveLength(1);

    // Exporting again names the same runs: a backend merges rather than duplicates them.
    const first = new Set(receiver.events.map((e) => e.run.runId));
    const again = await runNode({ args: [cli, 'export', '--openlineage', `${url}/api/v1/lineage`, '--state', state] });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^sent \d+ event\(s\) for \d+ run\(s\)/);
    expect(new Set(receiver.events.map((e) => e.run.runId))).toEqual(first);
  });

  it('exits 1 naming how far it got when the receiver refuses', async () => {
    const { dir, state } = workDir();
    await serve(dir, state, [42]);
    receiver.refuseWith = 503;
    const exported = await runNode({ args: [cli, 'export', '--openlineage', url, '--state', state] });
    expect(exported.code).toBe(1);
    expect(exported.stderr).toMatch(/^provenant: export stopped after 0 of \d+ event\(s\): .*answered 503/);
    expect(receiver.refused).toBe(1);
    expect(receiver.events).toEqual([]);
  });
});

describe('the validating receiver', () => {
  it('refuses events and facets the published schemas do not allow', async () => {
    const valid: RunEvent = {
      eventType: 'COMPLETE',
      eventTime: new Date().toISOString(),
      producer: 'https://www.npmjs.com/package/provenant/v/0.1.0',
      schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
      run: { runId: '2ff87274-d1f8-82fb-8afe-2153aca2212a' },
      job: { namespace: 'provenant', name: 'reports' },
      inputs: [],
      outputs: [],
    };
    await expect(postEvent(`${url}/api/v1/lineage`, valid)).resolves.toBeUndefined();
    await expect(postEvent(`${url}/api/v1/lineage`, { ...valid, run: { runId: 'run-1' } })).rejects.toThrow(/answered 400.*format/);
    const badTags = {
      ...valid,
      outputs: [
        { namespace: 'file://n1', name: '/out', facets: { tags: { ...tagsFacet(valid.producer, secret), tags: [{ key: 'pii' }] } } },
      ],
    };
    await expect(postEvent(`${url}/api/v1/lineage`, badTags as unknown as RunEvent)).rejects.toThrow(/answered 400.*value/);
    expect(receiver.problems.some((p) => p.startsWith('event/run/runId must match format "uuid"'))).toBe(true);
    expect(receiver.problems.some((p) => p.startsWith("outputs[0].facets.tags/tags/0 must have required property 'value'"))).toBe(true);
  });
});

describe('journal.openlineage', () => {
  it('exports from a worker at checkpoints; what a refused export left behind is sent by the next start', async () => {
    const { dir, state } = workDir(url);
    receiver.refuseWith = 503;
    await serve(dir, state, [42]);
    expect(receiver.refused).toBeGreaterThan(0);
    expect(receiver.events).toEqual([]);

    receiver.refuseWith = undefined;
    await serve(dir, state, [43]);
    // The second process's exit flush sends its own runs and the first process's, adopted from its log.
    const run42 = await receiver.waitFor(outputFor(dir, 42));
    const run43 = await receiver.waitFor(outputFor(dir, 43));
    expect(receiver.problems).toEqual([]);
    expect(run42.job).toEqual({ namespace: 'clinic', name: REPORT_JOB });
    expect(run43.run.runId).not.toBe(run42.run.runId);
    expect(receiver.events.filter((e) => e.eventType === 'START' && e.run.runId === run42.run.runId)).toHaveLength(1);
    // Each log's cursor: the exited process's log is marked done and is not read again by later starts.
    const cursors = readdirSync(path.join(state, 'openlineage')).map(
      (name) => JSON.parse(readFileSync(path.join(state, 'openlineage', name), 'utf8')) as { exported: number; done?: boolean },
    );
    expect(cursors).toHaveLength(2);
    expect(cursors.filter((c) => c.done === true)).toHaveLength(1);
    expect(cursors.every((c) => c.exported > 0)).toBe(true);
  });

  it('is validated at start: a wrong URL stops the process with file:line:col', async () => {
    const { dir } = workDir('ftp://lineage.example.com');
    const checked = await runNode({ args: [cli, 'policy', 'validate', path.join(dir, 'provenant.yaml')] });
    expect(checked.code).toBe(78);
    expect(checked.stderr).toMatch(/provenant\.yaml:11:\d+: .*"ftp:\/\/lineage\.example\.com" must be an http:\/\/ or https:\/\/ URL/);
  });
});
