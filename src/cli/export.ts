/**
 * `provenant export`: `export status` reports the OTLP log export of the journal (it runs inside
 * the instrumented apps); `export --openlineage URL` sends the journal as OpenLineage run events.
 */
import type { CliCommand } from './command.js';
import { exportOpenLineage } from './export-openlineage.js';
import { exportStatus } from './export-status.js';

export const exportCommand: CliCommand = {
  summary: 'export status (OTLP log export: lag, failures, skips), or send the journal as OpenLineage run events',
  run: (args) => (args[0] === 'status' ? exportStatus.run(args) : exportOpenLineage.run(args)),
};
