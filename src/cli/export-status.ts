/** `provenant export status [--json]`: how far the OTLP log export of the journal is behind, and why. */
import { parseArgs } from 'node:util';
import { LOG_EXPORTER } from '../export/outbox.js';
import { exportStatus as readExportStatus, type ExportStatusReport } from '../export/status.js';
import type { CliCommand } from './command.js';
import { commonOptions, STATE_HELP, stateDirs, UsageError, withUsage, writeJson } from './journal-args.js';

const USAGE = `Usage: provenant export status [--json]

The journal's export as OTLP log records (OTEL_EXPORTER_OTLP_LOGS_ENDPOINT): the lag (journal
lines and bytes the collector has not acknowledged), the last success, failures, and what was
skipped and why. Records are never dropped from the journal.
${STATE_HELP}
  --json          machine-readable output`;

export const exportStatus: CliCommand = {
  summary: 'status of the journal export over OTLP logs (lag, failures, skips)',
  run: (args) =>
    withUsage(USAGE, () => {
      const { values, positionals } = parseArgs({ args, options: commonOptions, allowPositionals: true });
      if (values.help) {
        process.stdout.write(USAGE + '\n');
        return 0;
      }
      if (positionals[0] !== 'status' || positionals.length > 1) throw new UsageError('expected: export status');
      const reports = stateDirs(values.state).map((dir) => readExportStatus(dir, LOG_EXPORTER));
      if (values.json) writeJson(reports.length === 1 ? reports[0] : reports);
      else process.stdout.write(reports.map(describe).join('\n') + '\n');
      return 0;
    }),
};

function describe(report: ExportStatusReport): string {
  const lines = [
    `${report.exporter} export of ${report.stateDir}${report.neverRun ? ' (never run: no OTLP logs endpoint was configured yet)' : ''}`,
    `  lag:           ${report.lag.records} journal line(s), ${report.lag.bytes} bytes in ${report.lag.segments} segment(s)`,
    `  exported:      ${report.exported} log record(s)`,
    `  last success:  ${report.lastSuccess ?? 'never'}`,
    `  failures:      ${report.failures} (${report.consecutiveFailures} since the last success)`,
  ];
  if (report.lastFailure) lines.push(`  last failure:  ${report.lastFailure.at} ${report.lastFailure.error}`);
  lines.push(`  skipped:       ${report.skipped.lines} journal line(s)${report.skipped.lines > 0 ? ' (still in the journal):' : ''}`);
  for (const skip of report.skipped.latest)
    lines.push(`    ${skip.at} ${skip.segment}: ${skip.lines} line(s), ${skip.bytes} bytes: ${skip.reason}`);
  return lines.join('\n');
}
