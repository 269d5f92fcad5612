/** `provenant report --out FILE [--since T] [--until T] [--policy FILE ...] [--pdf]` */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gatherEvidence } from '../ui/evidence.js';
import { renderReport } from '../ui/report-html.js';
import type { CliCommand } from './command.js';
import { commonOptions, STATE_HELP, stateDirs, timeWindow, UsageError, windowOptions, withUsage } from './journal-args.js';
import { loadKeyArgument, readHeldFile } from './verify.js';

const USAGE = `Usage: provenant report --out FILE [--since T] [--until T] [--policy FILE ...] [--pdf]

Writes a self-contained HTML evidence report for an auditor: scope and period, every journal
segment and its verification (file SHA-256, signatures, witnesses), flows of each tag by
destination, every denial with rule and reason, revocations and their effect, the digests of
the policy files in force, and how to re-verify with this CLI.
${STATE_HELP}
  --out FILE      the HTML report to write
  --since T       ISO time or a duration back from now (10m, 2h, 1d)
  --until T       same forms
  --policy FILE   a policy (provenant.yaml) in force in the period, digested into the report (repeatable)
  --key K         the log key: Ed25519 public key (PEM text or file) or vkey
  --witness FILE  checkpoints held elsewhere (C2SP notes, or JSON lines with provenant.checkpoint.note)
                  the journals must still contain (repeatable)
  --pdf           also print it to FILE with .pdf, with Chromium ($PROVENANT_CHROMIUM or /usr/bin/chromium)`;

export const report: CliCommand = {
  summary: 'write a self-contained HTML (and PDF) evidence report for a period',
  run: (args) =>
    withUsage(USAGE, () => {
      const { values } = parseArgs({
        args,
        options: {
          ...commonOptions,
          ...windowOptions,
          out: { type: 'string' },
          policy: { type: 'string', multiple: true },
          key: { type: 'string' },
          witness: { type: 'string', multiple: true },
          pdf: { type: 'boolean', default: false },
        },
      });
      if (values.help) {
        process.stdout.write(USAGE + '\n');
        return 0;
      }
      if (values.out === undefined) throw new UsageError('--out FILE is required');
      const out = resolve(values.out);
      const evidence = gatherEvidence({
        stateDirs: stateDirs(values.state),
        window: timeWindow(values),
        now: new Date(),
        policyFiles: (values.policy ?? []).map((file) => resolve(file)),
        publicKey: values.key === undefined ? undefined : loadKeyArgument(values.key),
        held: (values.witness ?? []).flatMap(readHeldFile),
      });
      writeFileSync(out, renderReport(evidence));
      process.stdout.write(`provenant report: ${out} (${evidence.verify.ok ? 'journals verify' : 'journals FAIL verification'})\n`);
      if (values.pdf) {
        const pdf = out.replace(/(\.html?)?$/i, '.pdf');
        printToPdf(out, pdf);
        process.stdout.write(`provenant report: ${pdf}\n`);
      }
      return 0;
    }),
};

/** Chromium's own headless printing: no browser automation library needed at run time. */
function printToPdf(html: string, pdf: string): void {
  const chromium = process.env['PROVENANT_CHROMIUM'] ?? '/usr/bin/chromium';
  const profile = mkdtempSync(join(tmpdir(), 'provenant-chromium-'));
  try {
    const result = spawnSync(
      chromium,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${profile}`,
        '--no-pdf-header-footer',
        `--print-to-pdf=${pdf}`,
        pathToFileURL(html).href,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    if (result.error) throw new Error(`cannot run Chromium (${chromium}) for --pdf: ${result.error.message}`);
    if (result.status !== 0)
      throw new Error(`Chromium (${chromium}) failed to print the PDF: ${result.stderr.trim().split('\n').pop() ?? ''}`);
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}
