/**
 * What the preload entry (register.ts) does: start provenant before the app's first line. An
 * invalid config stops the process here with exit code 78 (EX_CONFIG) before any app code runs:
 * never a silent fallback to "allow all".
 * So does an unsupported Node.js in enforce mode; in audit (or off) mode nothing is enforced
 * anyway, so the app runs unobserved with one warning line rather than not at all.
 */
import { realpathSync } from 'node:fs';
import { EX_CONFIG, isConfigError } from './config/errors.js';
import { loadConfig } from './config/load.js';
import { start } from './runtime/runtime.js';
import { unsupportedNode } from './runtime/supported-node.js';
import { ownFile } from './support/own-files.js';

function isExportWorker(): boolean {
  // Only threads have worker_threads loaded before the preload: the main thread does not load it
  // here, as loading it has side effects Node keeps lazy (instrumentation/builtin-loads.ts).
  const list = (process as { moduleLoadList?: unknown }).moduleLoadList;
  if (Array.isArray(list) && !list.includes('NativeModule worker_threads')) return false;
  const workerData: unknown = process.getBuiltinModule('node:worker_threads').workerData;
  return (
    typeof workerData === 'object' &&
    workerData !== null &&
    (workerData as { provenantExportWorker?: unknown }).provenantExportWorker === true
  );
}

/**
 * The `provenant` CLI itself, preloaded through NODE_OPTIONS: it reads the journal and store it
 * would otherwise write to (a verify that adds a segment to what it verifies), and moves no app data.
 */
function isOwnCli(): boolean {
  const main = process.argv[1];
  if (main === undefined) return false;
  try {
    return realpathSync(main) === ownFile('cli', 'main.js');
  } catch {
    return false;
  }
}

function fail(error: unknown): never {
  if (isConfigError(error)) {
    process.stderr.write(`${error.message}\n`);
  } else {
    // Failing open here would run a regulated service without its policy: stop instead.
    process.stderr.write(`provenant: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exit(EX_CONFIG);
}

/** On an unsupported runtime: true when the app may run without provenant (audit/off), else exits. */
function refuseRuntime(why: string): void {
  let mode: string;
  try {
    mode = loadConfig().mode;
  } catch (error) {
    fail(error);
  }
  if (mode === 'enforce') {
    process.stderr.write(`${why}: refusing to start in enforce mode\n`);
    process.exit(EX_CONFIG);
  }
  process.stderr.write(`${why}: provenant is disabled (${mode} mode); nothing is recorded or enforced\n`);
}

export function preload(): void {
  if (isOwnCli() || isExportWorker()) return;
  const unsupported = unsupportedNode();
  if (unsupported !== undefined) refuseRuntime(unsupported);
  else {
    try {
      start();
    } catch (error) {
      fail(error);
    }
  }
}
