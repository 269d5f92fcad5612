/**
 * journal.retention with real processes under the preload and 4 KiB segments: the journal dir
 * stays within its bound over a run of many rotations, the pruned dir still verifies against the
 * pinned key (the pruned prefix is an info line), each pruning is a journal record, and tampering
 * with what is left (a record, the header's frontier), a missing middle or newest segment still
 * fail. With the OTLP log export's collector down nothing undelivered is deleted; once it has
 * delivered, the next process prunes.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportStatusReport } from '../../src/export/status.js';
import type { VerifyReport } from '../../src/journal/verify.js';
import { startLogsReceiver } from '../helpers/otlp-logs-receiver.js';
import { closedPort } from '../helpers/ports.js';
import { repoRoot, runNode, startNode, stopAll } from '../helpers/spawn.js';
import { cleanupTempDirs, tempDir } from '../helpers/tmp.js';
import { ed25519, readLines, segmentFiles, writeLines } from './helpers.js';

const SEGMENT = 4096;
const BOUND = 6 * SEGMENT;

/** Writes copies of a labelled file on "write <batch> <n>" lines from stdin, then prints "done <batch>". */
const APP = `
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');
const work = process.env.WORK_DIR;
const run = process.env.RUN;
let count = 0;
const lines = readline.createInterface({ input: process.stdin });
lines.on('line', async (line) => {
  const [, batch, n] = line.split(' ');
  for (let i = 0; i < Number(n); i++) {
    const data = fs.readFileSync(path.join(work, 'secret', 'patients.json'));
    fs.writeFileSync(path.join(work, 'secret', 'out', run + '-' + count++ + '.json'), data);
  }
  // Retention runs on a later turn of the event loop after a rotation: let it.
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  process.stdout.write('done ' + batch + '\\n');
});
lines.on('close', () => process.exit(0));
process.stdout.write('ready\\n');
`;

let work: string;
let keyFile: string;
let pubFile: string;

beforeAll(() => {
  work = tempDir('provenant-retention-');
  mkdirSync(path.join(work, 'secret', 'out'), { recursive: true });
  writeFileSync(path.join(work, 'secret', 'patients.json'), '{"name":"Ada"}');
  writeFileSync(path.join(work, 'app.cjs'), APP);
  const keys = ed25519();
  keyFile = path.join(work, 'journal.key');
  pubFile = path.join(work, 'journal.pub');
  writeFileSync(keyFile, keys.privatePem);
  writeFileSync(pubFile, keys.publicPem);
});

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

/** A config with 4 KiB segments, the given `journal.retention` and any further `journal` entries. */
function writeConfig(name: string, retention: string, journal = ''): string {
  const file = path.join(work, name);
  writeFileSync(
    file,
    [
      'service: billing',
      'node: n1',
      'resources:',
      '  - match: { path: "secret/**" }',
      '    labels: { confidentiality: secret, tags: [pii] }',
      `journal: { repeatWindowMs: 0, checkpointEvery: 10, segmentMaxBytes: ${SEGMENT}, retention: ${retention}${journal} }`,
    ].join('\n') + '\n',
  );
  return file;
}

function env(config: string, stateDir: string, run: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    WORK_DIR: work,
    RUN: run,
    PROVENANT_CONFIG: config,
    PROVENANT_STATE_DIR: stateDir,
    PROVENANT_JOURNAL_KEY: keyFile,
    OTEL_TRACES_EXPORTER: 'none',
    ...extra,
  };
}

/** Runs the app through `batches` batches of `perBatch` writes; returns the journal dir's size after each. */
async function runApp(
  config: string,
  stateDir: string,
  run: string,
  batches: number,
  perBatch: number,
  extra: Record<string, string> = {},
): Promise<number[]> {
  const app = startNode({ args: [path.join(work, 'app.cjs')], preload: 'require', env: env(config, stateDir, run, extra) });
  await app.waitForLine(/^ready$/);
  const sizes: number[] = [];
  for (let batch = 0; batch < batches; batch++) {
    app.child.stdin!.write(`write ${batch} ${perBatch}\n`);
    await app.waitForLine(new RegExp(`^done ${batch}$`));
    sizes.push(journalBytes(stateDir));
  }
  app.child.stdin!.end();
  const exit = await app.exited;
  expect(exit.code, app.stderr).toBe(0);
  return sizes;
}

function journalBytes(stateDir: string): number {
  return segmentFiles(stateDir).reduce((sum, file) => sum + statSync(file).size, 0);
}

/** Segment file names by log prefix, each log's in index order. */
function logs(stateDir: string): Map<string, string[]> {
  const byLog = new Map<string, string[]>();
  for (const file of segmentFiles(stateDir)) {
    const name = path.basename(file);
    const prefix = name.replace(/-\d+\.jsonl$/, '');
    byLog.set(prefix, [...(byLog.get(prefix) ?? []), name]);
  }
  return byLog;
}

async function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runNode({ args: [path.join(repoRoot, 'dist', 'cli', 'main.js'), ...args] });
}

async function verify(stateDir: string): Promise<{ code: number | null; report: VerifyReport; stderr: string }> {
  const result = await cli('verify', '--state', stateDir, '--key', pubFile, '--json');
  return { code: result.code, report: JSON.parse(result.stdout) as VerifyReport, stderr: result.stderr };
}

function copyOf(stateDir: string, name: string): string {
  const copy = path.join(work, name);
  cpSync(stateDir, copy, { recursive: true });
  return copy;
}

describe('a bounded journal dir', () => {
  let stateDir: string;
  let sizes: number[];

  beforeAll(async () => {
    stateDir = path.join(work, 'bounded');
    const config = writeConfig('bounded.yaml', `{ maxBytes: ${BOUND} }`);
    // Two processes one after the other: the second prunes the first's log whole, then its own prefix.
    await runApp(config, stateDir, 'a', 4, 40);
    sizes = await runApp(config, stateDir, 'b', 12, 40);
    // Timeouts here only bound a failure: on a loaded machine these runs take minutes.
  }, 300_000);

  it('stays within maxBytes plus the segment being written, across many rotations', () => {
    // The first process's log is gone; the second one's lost its first segments.
    const left = [...logs(stateDir).values()];
    expect(left).toHaveLength(1);
    expect(Number(/-(\d+)\.jsonl$/.exec(left[0][0])?.[1])).toBeGreaterThan(3);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(BOUND + SEGMENT);
  });

  it('verifies against the pinned key, the pruned prefix an info line', async () => {
    const { code, report, stderr } = await verify(stateDir);
    expect(code, stderr).toBe(0);
    expect(report.failures).toEqual([]);
    expect(report.warnings.filter((w) => w.message.includes('pruned'))).toEqual([]);
    expect(report.notes.map((n) => n.message)).toEqual([
      expect.stringMatching(
        /^pruned before seq \d+: segments 0–\d+ of this log are gone; .* deleted by journal\.retention at .* and the frontier matches the checkpoint recorded then$/,
      ),
    ]);
    expect(report.logs[0].prunedBefore).toBeGreaterThan(1);
    const text = await cli('verify', '--state', stateDir, '--key', pubFile);
    expect(text.stdout).toMatch(/^info .*-\d+\.jsonl seq \d+: pruned before seq \d+/m);
  });

  it('records each pruning in the journal and in retention/pruned.jsonl: segments, last seq, signed closing checkpoint', () => {
    const journaled = segmentFiles(stateDir)
      .flatMap(readLines)
      .filter((line) => line.includes('"action":"provenant.journal.pruned"'))
      .map((line) => JSON.parse(line) as { attributes: Record<string, string | number | boolean> });
    // Records of earlier passes may sit in segments a later pass deleted; the latest are left.
    expect(journaled.length).toBeGreaterThan(0);
    const evidence = readLines(path.join(stateDir, 'retention', 'pruned.jsonl')).map(
      (line) =>
        JSON.parse(line) as {
          log: string;
          by: string;
          firstSegment: string;
          lastSegment: string;
          segments: number;
          throughSeq: number;
          checkpoint: string;
          whole: boolean;
          reason: string;
        },
    );
    const [first, second] = [...new Set(evidence.map((e) => e.log))];
    // The first process's log went whole (in the second process's passes), the second's own prefix too.
    expect(evidence.filter((e) => e.log === first).at(-1)?.whole).toBe(true);
    expect(evidence.filter((e) => e.log === second).every((e) => !e.whole)).toBe(true);
    for (const e of evidence) {
      expect(e.reason).toBe('maxBytes');
      expect(e.by).toMatch(/^provenant\/n1\/billing\/\d+-/);
      expect(e.firstSegment.startsWith(e.log + '-') && e.lastSegment.startsWith(e.log + '-')).toBe(true);
      expect(Number(e.lastSegment.slice(-12, -6)) - Number(e.firstSegment.slice(-12, -6)) + 1).toBe(e.segments);
      // The closing checkpoint of the last deleted segment, signed: its tree size is the last seq deleted.
      expect(e.checkpoint).toMatch(new RegExp(`\\n${e.throughSeq}\\n[^\\n]+\\n\\n— provenant/n1/billing `));
    }
    // Each log's passes follow on: the next pass starts with the segment after the last one deleted.
    for (const log of [first, second]) {
      const passes = evidence.filter((e) => e.log === log);
      for (let i = 1; i < passes.length; i++)
        expect(Number(passes[i].firstSegment.slice(-12, -6))).toBe(Number(passes[i - 1].lastSegment.slice(-12, -6)) + 1);
    }
    expect(journaled.at(-1)?.attributes['provenant.pruned.last_segment']).toBe(evidence.at(-1)?.lastSegment);
  });

  it('accepts a held checkpoint of a log retention deleted whole, and not of one deleted without its record', async () => {
    const evidence = readLines(path.join(stateDir, 'retention', 'pruned.jsonl')).map(
      (line) => JSON.parse(line) as { whole: boolean; checkpoint: string; throughSeq: number },
    );
    const gone = evidence.find((e) => e.whole);
    const witnessFile = path.join(work, 'held-whole.note');
    writeFileSync(witnessFile, gone!.checkpoint);
    const accepted = JSON.parse(
      (await cli('verify', '--state', stateDir, '--key', pubFile, '--witness', witnessFile, '--json')).stdout,
    ) as VerifyReport;
    expect(accepted.failures).toEqual([]);
    expect(accepted.notes).toContainEqual(
      expect.objectContaining({
        message: expect.stringMatching(new RegExp(`^log deleted whole by journal\\.retention at .* through seq ${gone!.throughSeq} `)),
      }),
    );
    const copy = copyOf(stateDir, 'whole-without-record');
    rmSync(path.join(copy, 'retention'), { recursive: true });
    const refused = await cli('verify', '--state', copy, '--key', pubFile, '--witness', witnessFile, '--json');
    expect(refused.code).toBe(1);
    expect((JSON.parse(refused.stdout) as VerifyReport).failures).toContainEqual(
      expect.objectContaining({ message: expect.stringMatching(/^log is missing: .*held-whole.note.* holds its checkpoint of size/) }),
    );
  });

  it('proves a retained record from the frontier, and says a pruned one cannot be proved', async () => {
    const [name] = logs(stateDir).values().next().value as string[];
    const header = JSON.parse(readLines(path.join(stateDir, 'journal', name))[0]) as { firstSeq: number };
    const pruned = await cli('prove', name, String(header.firstSeq - 1), '--state', stateDir);
    expect(pruned.code).toBe(1);
    expect(pruned.stderr).toMatch(/was deleted by journal\.retention .*no inclusion proof is possible/);
    const proofFile = path.join(work, 'retained.proof');
    const proved = await cli('prove', name, String(header.firstSeq + 3), '--state', stateDir, '--out', proofFile);
    expect(proved.code, proved.stderr).toBe(0);
    const checked = await cli('verify-proof', proofFile, '--key', pubFile);
    expect(checked.code, checked.stderr).toBe(0);
  });

  it('fails when a retained record is altered', async () => {
    const copy = copyOf(stateDir, 'tampered-record');
    const file = segmentFiles(copy)[0];
    const lines = readLines(file);
    const at = lines.findIndex((line) => line.startsWith('{"seq":') && line.includes('patients.json'));
    lines[at] = lines[at].replace('patients.json', 'patients.jsoN');
    writeLines(file, lines);
    const { code, report } = await verify(copy);
    expect(code).toBe(1);
    expect(report.failures[0].message).toMatch(/record hash does not match its content/);
  });

  it("fails when the first retained header carries a forged frontier, with or without retention's record", async () => {
    for (const withRecord of [true, false]) {
      const copy = copyOf(stateDir, `tampered-frontier-${withRecord}`);
      if (!withRecord) rmSync(path.join(copy, 'retention'), { recursive: true });
      const file = segmentFiles(copy)[0];
      const lines = readLines(file);
      const header = JSON.parse(lines[0]) as { frontier: string[] };
      expect(header.frontier.length).toBeGreaterThan(0);
      header.frontier[0] = (header.frontier[0][0] === '0' ? '1' : '0') + header.frontier[0].slice(1);
      lines[0] = JSON.stringify(header);
      writeLines(file, lines);
      const { code, report } = await verify(copy);
      expect(code).toBe(1);
      // With the record, the frontier is checked against its signed checkpoint at once; without, at the first checkpoint after it.
      expect(report.failures[0]).toMatchObject({
        file: path.basename(file),
        message: withRecord
          ? expect.stringMatching(/header frontier does not match the checkpoint retention\/pruned.jsonl recorded .*\(another root\)/)
          : expect.stringMatching(/root does not match the records/),
      });
    }
  });

  it('fails when a middle segment or the newest one is missing', async () => {
    const middle = copyOf(stateDir, 'missing-middle');
    const files = segmentFiles(middle);
    expect(files.length).toBeGreaterThanOrEqual(3);
    rmSync(files[1]);
    const gap = await verify(middle);
    expect(gap.code).toBe(1);
    expect(gap.report.failures[0].message).toMatch(/segment\(s\) are missing/);

    const newest = copyOf(stateDir, 'missing-newest');
    rmSync(segmentFiles(newest).at(-1)!);
    const cut = await verify(newest);
    expect(cut.code).toBe(1);
    expect(cut.report.failures[0].message).toMatch(/the next segment is missing/);
  });
});

it('deletes segments older than maxAgeSeconds although the dir is under maxBytes', async () => {
  const stateDir = path.join(work, 'aged');
  const config = writeConfig('aged.yaml', `{ maxBytes: ${100 * SEGMENT}, maxAgeSeconds: 3600 }`);
  await runApp(config, stateDir, 'c', 1, 60);
  const first = [...logs(stateDir).keys()];
  // The first process's segments were last written two hours ago.
  const old = Date.now() / 1000 - 7200;
  for (const file of segmentFiles(stateDir)) utimesSync(file, old, old);
  await runApp(config, stateDir, 'd', 1, 5);
  const left = [...logs(stateDir).keys()];
  expect(left).toHaveLength(1);
  expect(first).not.toContain(left[0]);
  const { code, stderr } = await verify(stateDir);
  expect(code, stderr).toBe(0);
}, 180_000);

it('keeps every segment the OTLP log export has not delivered while the collector is down, and prunes once it has', async () => {
  const stateDir = path.join(work, 'exported');
  const config = writeConfig('exported.yaml', `{ maxBytes: ${BOUND} }`);
  const port = await closedPort();
  const logEnv = {
    OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `http://127.0.0.1:${port}/v1/logs`,
    OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: '500',
  };
  await runApp(config, stateDir, 'e', 6, 40, logEnv);
  // Nothing was deleted: every segment of the log is there, from index 0, far over the bound.
  const [segments] = [...logs(stateDir).values()];
  expect(segments.map((name) => Number(/-(\d+)\.jsonl$/.exec(name)?.[1]))).toEqual(segments.map((_, i) => i));
  expect(journalBytes(stateDir)).toBeGreaterThan(2 * BOUND);
  expect(readdirSync(path.join(stateDir, 'journal')).some((n) => n === 'retention.lock')).toBe(false);

  // The collector is back: a second process delivers everything (at the latest in its exit flush,
  // which waits for the delivery however busy the machine is: the exit's budget is not under test)...
  const receiver = await startLogsReceiver(port);
  try {
    await runApp(config, stateDir, 'f', 1, 5, { ...logEnv, OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: '120000', PROVENANT_EXIT_FLUSH_MS: '120000' });
    const status = JSON.parse((await cli('export', 'status', '--json', '--state', stateDir)).stdout) as ExportStatusReport;
    expect(status.lag.bytes).toBe(0);
    // ... and the next one prunes what was delivered, down to the bound.
    await runApp(config, stateDir, 'g', 1, 5, logEnv);
  } finally {
    await receiver.close();
  }
  expect(journalBytes(stateDir)).toBeLessThanOrEqual(BOUND + SEGMENT);
  expect(readFileSync(segmentFiles(stateDir)[0], 'utf8')).toMatch(/^\{"type":"header"/);
  const { code, stderr } = await verify(stateDir);
  expect(code, stderr).toBe(0);
}, 300_000);

it('keeps every segment whose records the OpenLineage export has not sent while its receiver is down', async () => {
  const stateDir = path.join(work, 'openlineage');
  const port = await closedPort();
  const config = writeConfig('openlineage.yaml', `{ maxBytes: ${BOUND} }`, `, openlineage: { url: "http://127.0.0.1:${port}" }`);
  await runApp(config, stateDir, 'h', 4, 40);
  const [segments] = [...logs(stateDir).values()];
  expect(segments.map((name) => Number(/-(\d+)\.jsonl$/.exec(name)?.[1]))).toEqual(segments.map((_, i) => i));
  expect(journalBytes(stateDir)).toBeGreaterThan(2 * BOUND);
  // The twin without OpenLineage, same writes: pruned to the bound.
  const twin = path.join(work, 'openlineage-twin');
  await runApp(writeConfig('openlineage-twin.yaml', `{ maxBytes: ${BOUND} }`), twin, 'i', 4, 40);
  expect(journalBytes(twin)).toBeLessThanOrEqual(BOUND + SEGMENT);
}, 180_000);
