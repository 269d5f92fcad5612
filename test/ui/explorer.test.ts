/**
 * `provenant ui` in Debian's Chromium, over the demo's journals plus a generated 1,000-node
 * lineage: the graph's nodes and edges, a denial drawn and clickable, search, expanding a
 * collapsed node, the timeline, the overview and comparing two runs. Screenshots go to
 * test-artifacts/.
 */
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { Core, EdgeSingular, NodeSingular } from 'cytoscape';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRecords } from '../../src/journal/query.js';
import { openJournal } from '../../src/journal/writer.js';
import { artifact, launchChromium } from '../helpers/browser.js';
import { demoFiles, runDemo } from '../helpers/demo.js';
import { runNode, startNode, type NodeProcess } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { flowEvent, journalConfig } from '../journal/helpers.js';

/**
 * What the page exposes (src/ui/app/main.ts): the live Cytoscape graph and its last layout time.
 * Functions passed to page.evaluate run in the page, so each casts `window` itself.
 */
interface ExplorerWindow {
  provenantGraph?: { cy: Core; lastLayoutMs: number };
}

interface GraphElement {
  id: string;
  source?: string;
  target?: string;
  label: string;
  classes: string[];
}

let browser: Browser;
let server: NodeProcess;
let url: string;
let demo: { dir: string; stateDirs: string[] };
let page: Page;
const BIG_ROOT = 'file://big/data/root.csv';

/** A tree of 1,000 files downstream of one: 10 derived from the root, 100 from those, 889 from those. */
function writeBigLineage(): string {
  const state = tempDir('provenant-ui-big-');
  const journal = openJournal({ stateDir: state, config: journalConfig(), service: 'etl', node: 'big', pid: 1 });
  const mid = Array.from({ length: 10 }, (_, i) => `file://big/data/m${i}.csv`);
  const inner = Array.from({ length: 100 }, (_, i) => `file://big/data/n${i}.csv`);
  let i = 0;
  for (const uri of mid) journal.append(flowEvent(i++, { resource: uri, sources: [BIG_ROOT] }));
  inner.forEach((uri, j) => journal.append(flowEvent(i++, { resource: uri, sources: [mid[j % 10]] })));
  for (let k = 0; k < 889; k++) journal.append(flowEvent(i++, { resource: `file://big/data/leaf${k}.csv`, sources: [inner[k % 100]] }));
  journal.close();
  return state;
}

beforeAll(async () => {
  const [{ result, output }, launched] = await Promise.all([runDemo(), launchChromium()]);
  browser = launched;
  if (!result.ok) throw new Error(`the demo failed:\n${output}`);
  demo = { dir: result.dir, stateDirs: result.stateDirs };
  const state = [...result.stateDirs, writeBigLineage()].flatMap((dir) => ['--state', dir]);
  server = startNode({ args: ['dist/cli/main.js', 'ui', '--port', '0', '--trace-url', 'http://jaeger.test/trace/{traceId}', ...state] });
  url = (await server.waitForLine(/provenant ui: (http:\/\/127\.0\.0\.1:\d+\/)/))[1];
  page = await browser.newPage({ viewport: { width: 1400, height: 820 } });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.kill();
  await cleanupTempDirs();
});

async function openLineage(resource: string): Promise<void> {
  await page.goto(`${url}?resource=${encodeURIComponent(resource)}`);
  await page.waitForSelector('#graph[data-nodes]');
}

function graphElements(): Promise<GraphElement[]> {
  return page.evaluate(() => {
    const cy = (window as unknown as ExplorerWindow).provenantGraph?.cy;
    if (!cy) return [];
    return cy.elements().map((e) => ({
      id: e.id(),
      source: e.isEdge() ? e.source().id() : undefined,
      target: e.isEdge() ? e.target().id() : undefined,
      label: String(e.data('label')),
      classes: e.classes(),
    }));
  });
}

/** Clicks an element of the canvas where Cytoscape drew it. */
async function clickElement(id: string): Promise<void> {
  const point = await page.evaluate((target) => {
    const cy = (window as unknown as ExplorerWindow).provenantGraph?.cy;
    const element = cy?.getElementById(target);
    if (!cy || !element || element.empty()) throw new Error(`no element ${target}`);
    const box = cy.container()?.getBoundingClientRect();
    const at = element.isEdge() ? (element as EdgeSingular).renderedMidpoint() : (element as NodeSingular).renderedPosition();
    return { x: (box?.left ?? 0) + at.x, y: (box?.top ?? 0) + at.y };
  }, id);
  await page.mouse.click(point.x, point.y);
}

describe('provenant ui', () => {
  it("draws the report's lineage: grouped, coloured, reduced, with the denied attempt", async () => {
    const files = demoFiles(demo.dir);
    await openLineage(files.report);
    const elements = await graphElements();
    const nodes = elements.filter((e) => e.source === undefined && !e.classes.includes('group')).map((e) => e.id);
    expect(nodes).toEqual(expect.arrayContaining([files.report, files.extract, files.record, files.tariffs]));
    const edges = elements.filter((e) => e.source !== undefined && !e.classes.includes('denial'));
    expect(edges).toContainEqual(expect.objectContaining({ source: files.extract, target: files.report }));
    expect(edges).toContainEqual(expect.objectContaining({ source: files.record, target: files.extract }));
    // The record also fed the report directly, but the path through the extract says so already.
    expect(edges).not.toContainEqual(expect.objectContaining({ source: files.record, target: files.report }));
    const groups = elements.filter((e) => e.classes.includes('group')).map((e) => e.label);
    expect(groups).toEqual(expect.arrayContaining(['node eu-clinic-1', 'node eu-research-1', 'node us-billing-1']));
    // The patient record is secret and pii, however the attacker's write was labelled.
    const record = await page.evaluate(
      (id) => (window as unknown as ExplorerWindow).provenantGraph?.cy.getElementById(id).data() as Record<string, unknown>,
      files.record,
    );
    expect(record['label']).toContain('pii');
    expect(record['colour']).toBe('#f8c8c8');
    await page.screenshot({ path: artifact('ui-lineage.png') });
  });

  it('shows a denial as a red dashed edge that opens its rule and reason', async () => {
    const files = demoFiles(demo.dir);
    await openLineage(files.report);
    const denials = (await graphElements()).filter((e) => e.classes.includes('denial'));
    const integrity = denials.find((e) => e.target === files.record);
    expect(integrity?.label).toBe('denied: integrity');
    expect(integrity?.source).toBe('tcp://127.0.0.1');
    expect(denials.find((e) => e.source === files.report)).toMatchObject({ target: files.published, label: 'denied: revoked' });
    await clickElement(integrity?.id ?? '');
    const details = page.locator('#denial-details');
    await details.waitFor();
    expect(await details.textContent()).toContain('accepts only high integrity');
    expect(await page.locator('#details h2').textContent()).toBe('Denied: integrity');
    await page.screenshot({ path: artifact('ui-denial.png') });
  });

  it('finds a resource by part of its path and opens its lineage', async () => {
    await page.goto(url);
    await page.fill('#search', 'cohort-diabetes');
    const extract = demoFiles(demo.dir).extract;
    const hit = page.locator(`#search-results button[data-resource="${extract}"]`);
    await hit.click();
    await page.waitForSelector('#graph[data-nodes]');
    expect(await page.locator('.toolbar strong').textContent()).toBe(extract);
  });

  it('collapses a large lineage beyond two hops and expands a node on click', async () => {
    await openLineage(BIG_ROOT);
    const before = await graphElements();
    const shown = (elements: GraphElement[]): GraphElement[] =>
      elements.filter((e) => e.source === undefined && !e.classes.includes('group'));
    expect(shown(before)).toHaveLength(111);
    const collapsed = shown(before).find((e) => e.id === 'file://big/data/n7.csv');
    expect(collapsed?.classes).toContain('collapsed');
    expect(collapsed?.label).toContain('＋9 more');
    await clickElement('file://big/data/n7.csv');
    await page.waitForFunction(() => document.querySelector('#graph')?.getAttribute('data-nodes') === '120');
    const after = shown(await graphElements()).map((e) => e.id);
    expect(after).toContain('file://big/data/leaf7.csv');
    expect(after).toContain('file://big/data/leaf807.csv');

    await page.click('#expand-all');
    await page.waitForFunction(() => document.querySelector('#graph')?.getAttribute('data-nodes') === '1000');
    const layoutMs = await page.evaluate(() => (window as unknown as ExplorerWindow).provenantGraph?.lastLayoutMs ?? -1);
    // A measurement for the README, not an assertion on time.
    writeFileSync(artifact('layout-1000-nodes.txt'), `dagre layout of 1000 nodes, 999 edges: ${layoutMs.toFixed(0)} ms\n`);
    expect(layoutMs).toBeGreaterThan(0);
  });

  it('lists every read, write and denial of a resource in its timeline, with trace links', async () => {
    const files = demoFiles(demo.dir);
    await openLineage(files.record);
    await page.click('[data-tab=timeline]');
    await page.waitForSelector('#timeline tbody tr');
    const rows = await page
      .locator('#timeline tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) => ({ cls: tr.className, cells: [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '') })),
      );
    expect(rows.map((r) => r.cells[1])).toEqual(expect.arrayContaining(['read', 'write']));
    const denial = rows.find((r) => r.cells[3] === 'integrity');
    expect(denial?.cls).toBe('deny');
    expect(rows.some((r) => r.cells[5] === 'dr.ferreira')).toBe(true);
    const link = page.locator('#timeline a').first();
    expect(await link.getAttribute('href')).toMatch(/^http:\/\/jaeger\.test\/trace\/[0-9a-f]{32}$/);
  });

  it('shows verification, flows and denials by rule in the overview', async () => {
    await page.goto(url);
    await page.waitForSelector('#verify tbody tr');
    expect(await page.locator('#pane-overview h2').first().textContent()).toBe('Journals: verified');
    expect(await page.locator('#verify tbody tr').count()).toBe(4);
    const rules = await page.locator('#denials-by-rule th').allTextContents();
    expect(rules.sort()).toEqual(['integrity', 'pii-stays-in-eu', 'revoked']);
    // The residency attempt: pii towards billing's endpoint, denied.
    const flows = await page.locator('#flows-by-label th').allTextContents();
    expect(flows.filter((name) => /^pii → http:\/\/127\.0\.0\.1:\d+$/.test(name))).toHaveLength(1);
    await page.screenshot({ path: artifact('ui-overview.png'), fullPage: true });
  });

  it('compares two runs: the cohort handed over, then withheld after the revocation', async () => {
    // The clinic's two answers to research for the cohort: allowed before, denied after.
    const handovers = queryRecords(demo.stateDirs, {}, 1000, 1).records.filter(
      (r) => r.service === 'clinic' && r.op === 'write' && r.resource === 'service://research',
    );
    const allowed = handovers.find((r) => r.decision === 'allow')?.traceId ?? '';
    const denied = handovers.find((r) => r.decision === 'deny')?.traceId ?? '';
    await page.goto(url);
    await page.click('[data-tab=compare]');
    await page.fill('#run-a', allowed);
    await page.fill('#run-b', denied);
    await page.click('#compare-go');
    await page.waitForSelector('#differences');
    const rows = await page
      .locator('#differences tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) => ({ cls: tr.className, cells: [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '') })),
      );
    const handover = rows.find((r) => r.cells[1] === 'service://research' && r.cells[0] === 'outputs');
    expect(handover?.cls).toBe('changed');
    expect(handover?.cells[2]).toContain('(allow)');
    expect(handover?.cells[3]).toContain('(deny)');
    await page.screenshot({ path: artifact('ui-compare.png'), fullPage: true });

    await page.fill('#run-b', 'not-a-run');
    await page.click('#compare-go');
    await page.waitForSelector('#compare-result .denied');
    expect(await page.locator('#compare-result .denied').textContent()).toContain('neither a trace id');
  });

  it('answers bad requests with a clear error and refuses to change anything', async () => {
    const missing = await fetch(`${url}api/lineage`);
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ error: 'missing query parameter "resource"' });
    expect((await fetch(`${url}api/nothing`)).status).toBe(404);
    expect((await fetch(`${url}api/overview`, { method: 'POST' })).status).toBe(405);
    // A name rebound to 127.0.0.1 by another site gets nothing.
    const rebound = await new Promise<number | undefined>((resolve, reject) => {
      http
        .get(`${url}api/overview`, { headers: { host: 'attacker.example:80' } }, (response) => {
          response.resume();
          resolve(response.statusCode);
        })
        .on('error', reject);
    });
    expect(rebound).toBe(421);
    const badPort = await runNode({ args: ['dist/cli/main.js', 'ui', '--port', 'eighty'] });
    expect(badPort.code).toBe(64);
    expect(badPort.stderr).toContain('--port must be an integer from 0 to 65535');
    const page = await (await fetch(url)).text();
    // Everything the page loads comes from this server.
    expect(page).not.toMatch(/https?:\/\//);
  });
});
