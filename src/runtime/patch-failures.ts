/**
 * A part of Node provenant could not patch is a way out it does not mediate. In enforce mode that
 * must not become a silent allow: a failure while starting fails the start (exit 78, as a bad
 * config does), and a built-in that fails to patch when it first loads stops the process the same
 * way before the module is handed to the app. Audit mode says so on stderr and runs on.
 */
import { EX_CONFIG } from '../config/errors.js';
import type { Mode } from '../config/types.js';
import { onPatchFailure } from '../instrumentation/builtin-loads.js';

/** Chooses what a failed patch of a built-in does for this run. */
export function handlePatchFailures(mode: Mode): void {
  onPatchFailure((id, error) => {
    const what = `provenant: patching node:${id} failed (${describe(error)})`;
    if (mode !== 'enforce') {
      process.stderr.write(`${what}; node:${id} is not mediated in this process (${mode} mode)\n`);
      return;
    }
    process.stderr.write(`${what}; stopping: enforce mode does not run with an unmediated module\n`);
    process.exit(EX_CONFIG);
  });
}

/** An instrumentation that failed to enable: the start fails in enforce mode, else one stderr line. */
export function enableFailed(mode: Mode, name: string, error: unknown): void {
  const what = `enabling the ${name} instrumentation failed (${describe(error)})`;
  if (mode === 'enforce') throw new Error(what, { cause: error });
  process.stderr.write(`provenant: ${what}; it is not mediated in this process (${mode} mode)\n`);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
