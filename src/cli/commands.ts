/** The table of `provenant` commands. Each lives in its own module. */
import type { CliCommand } from './command.js';
import { explain } from './explain.js';
import { exportCommand } from './export.js';
import { policy } from './policy.js';
import { lineage } from './lineage.js';
import { query } from './query.js';
import { report } from './report.js';
import { stats } from './stats.js';
import { ui } from './ui.js';
import { verify } from './verify.js';
import { verifyProofCommand } from './verify-proof.js';
import { keys } from './keys.js';
import { checkpoint } from './checkpoint.js';
import { prove } from './prove.js';
import { witness } from './witness.js';

export const commands: Record<string, CliCommand> = {
  verify,
  'verify-proof': verifyProofCommand,
  prove,
  keys,
  checkpoint,
  witness,
  lineage,
  query,
  stats,
  policy,
  explain,
  export: exportCommand,
  ui,
  report,
};
