/**
 * `provenant report` over the demo's journals: the HTML read in Chromium (verification with
 * file digests, denials, revocations, policy digests, charts, method), the PDF printed by the
 * same Chromium, a period that excludes everything, a tampered journal, and bad arguments.
 */
import { createHash } from 'node:crypto';
import { cpSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifact, chromiumPath, launchChromium } from '../helpers/browser.js';
import { runDemo } from '../helpers/demo.js';
import { runNode, type RunResult } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';

let browser: Browser;
let page: Page;
let demo: { dir: string; stateDirs: string[] };
const requested: string[] = [];

beforeAll(async () => {
  const [{ result, output }, launched] = await Promise.all([runDemo(), launchChromium()]);
  browser = launched;
  if (!result.ok) throw new Error(`the demo failed:\n${output}`);
  demo = { dir: result.dir, stateDirs: result.stateDirs };
  page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.on('request', (request) => requested.push(request.url()));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await cleanupTempDirs();
});

function report(args: string[], stateDirs = demo.stateDirs): Promise<RunResult> {
  return runNode({
    args: ['dist/cli/main.js', 'report', ...stateDirs.flatMap((dir) => ['--state', dir]), ...args],
    env: { PROVENANT_CHROMIUM: chromiumPath },
    timeoutMs: 60_000,
  });
}

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

async function cells(selector: string): Promise<string[][]> {
  const rows = await page.locator(`${selector} tbody tr`).all();
  return Promise.all(rows.map((row) => row.locator('td').allTextContents()));
}

describe('provenant report', () => {
  it('writes a self-contained report an auditor can check against the journals', async () => {
    const out = path.join(tempDir('provenant-report-'), 'evidence.html');
    const policy = path.join(demo.dir, 'clinic', 'provenant.yaml');
    const result = await report(['--out', out, '--since', '1h', '--policy', policy, '--pdf']);
    expect(result.code, result.stderr).toBe(0);
    expect(
      readFileSync(out.replace(/\.html$/, '.pdf'))
        .subarray(0, 5)
        .toString(),
    ).toBe('%PDF-');

    requested.length = 0;
    await page.goto(pathToFileURL(out).href);
    // Nothing but the file itself is loaded.
    expect(requested).toEqual([pathToFileURL(out).href]);
    expect(await page.locator('#verification').textContent()).toMatch(/^VERIFIED: 3 segment\(s\)/);
    const segments = await cells('#segments');
    expect(segments).toHaveLength(3);
    const files = demo.stateDirs.flatMap((dir) => readdirSync(path.join(dir, 'journal')).map((name) => path.join(dir, 'journal', name)));
    expect(segments.map((row) => row[8]).sort()).toEqual(files.map(sha256).sort());

    const denials = await cells('#denials');
    expect(denials.map((row) => `${row[1]}:${row[2]}`).sort()).toEqual(
      ['clinic:integrity', 'clinic:pii-stays-in-eu', 'clinic:revoked', 'research:revoked'].sort(),
    );
    expect(denials.find((row) => row[2] === 'pii-stays-in-eu')?.[3]).toContain('PII must not leave the EU');
    expect((await cells('#revocations')).map((row) => row[1]).sort()).toEqual(['clinic', 'research']);
    expect(await cells('#policies')).toEqual([[policy, sha256(policy)]]);
    const pii = (await cells('#flows')).filter((row) => row[0] === 'pii');
    expect(pii.find((row) => row[1].startsWith('http://127.0.0.1:'))?.[4]).toBe('1');
    expect(await page.locator('#flows-chart rect.denied').count()).toBeGreaterThan(0);
    expect(await page.locator('#method').textContent()).toContain(`npx provenant verify --state ${demo.stateDirs[0]}`);
    await page.screenshot({ path: artifact('report.png'), fullPage: true, clip: { x: 0, y: 0, width: 1100, height: 1500 } });
  });

  it('reports nothing for a period before the journals', async () => {
    const out = path.join(tempDir('provenant-report-'), 'empty.html');
    const result = await report(['--out', out, '--since', '2000-01-01T00:00:00Z', '--until', '2000-01-02T00:00:00Z']);
    expect(result.code, result.stderr).toBe(0);
    await page.goto(pathToFileURL(out).href);
    expect(await page.locator('#scope').textContent()).toContain('2000-01-01T00:00:00.000Z to 2000-01-02T00:00:00.000Z');
    expect(await page.locator('#denials').textContent()).toBe('None in this period.');
  });

  it('says FAILED, naming the segment, when a journal was altered', async () => {
    const copy = tempDir('provenant-report-tampered-');
    cpSync(demo.stateDirs[0], copy, { recursive: true });
    const [segment] = readdirSync(path.join(copy, 'journal'));
    const file = path.join(copy, 'journal', segment);
    writeFileSync(file, readFileSync(file, 'utf8').replace('"bytes":', '"bytes":1'));
    const out = path.join(tempDir('provenant-report-'), 'tampered.html');
    const result = await report(['--out', out], [copy]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('journals FAIL verification');
    await page.goto(pathToFileURL(out).href);
    expect(await page.locator('#verification').getAttribute('class')).toBe('failed');
    expect(await page.locator('p.problem.failed').first().textContent()).toContain(`FAIL ${segment}`);
  });

  it('refuses to run without --out or with an unreadable time', async () => {
    const missing = await report([]);
    expect(missing.code).toBe(64);
    expect(missing.stderr).toContain('--out FILE is required');
    const badTime = await report(['--out', '/nonexistent/x.html', '--since', 'yesterday-ish']);
    expect(badTime.code).toBe(64);
    expect(badTime.stderr).toContain('cannot read time "yesterday-ish"');
  });
});
