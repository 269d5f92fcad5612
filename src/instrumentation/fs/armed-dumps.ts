/**
 * Dumps Node writes later, by itself, once armed (README coverage table, fs). Each
 * is either brought through the decided writers of dumps.ts, or refused in enforce mode:
 * - `process.report.reportOnUncaughtException` / `reportOnSignal` (and their command-line flags):
 *   kept as the app's wish while Node's own trigger stays off; provenant writes the report at the
 *   uncaught exception or signal through the patched `writeReport`, decided then with everything
 *   the process has read (a denied report is not written, with a warning).
 * - `--heapsnapshot-signal`: Node's signal listener is replaced by one calling the patched
 *   `v8.writeHeapSnapshot`, decided the same way.
 * - `process.report.reportOnFatalError` and `v8.setHeapSnapshotNearHeapLimit`: written from
 *   native code when JS can no longer run, so no decision is possible: in enforce mode arming
 *   them is denied (rule `native-dump`), and the flag form of the first is disarmed at start
 *   (the flag form of the second cannot be: runtime/native-dump-flags.ts refuses to start).
 * `directory`, `filename` and `signal` are settings, not flows: the decision uses them when a
 * report is written.
 */
import { isMainThread } from '../../support/main-thread.js';
import { diag } from '@opentelemetry/api';
import type { ProvenanceDeniedError } from '../../errors.js';
import { nodeOption } from '../../support/node-options.js';
import type { Patcher } from '../patcher.js';

interface Report {
  writeReport(error?: unknown): string;
  reportOnUncaughtException: boolean;
  reportOnSignal: boolean;
  reportOnFatalError: boolean;
  signal: string;
}

export interface ArmedDumpsOptions {
  readonly enforce: boolean;
  /** The denial for arming a native-only dump (rule `native-dump`). */
  readonly refuse: (what: string) => ProvenanceDeniedError;
}

export function mediateArmedDumps(report: Report, patcher: Patcher, options: ArmedDumpsOptions): void {
  const write = (what: string, dump: () => unknown): void => {
    try {
      dump();
    } catch (error) {
      diag.warn(`provenant: ${what} was not written`, error);
    }
  };

  // Uncaught exceptions: the app's wish, Node's trigger off; written here when nothing handles the error.
  let onUncaught = report.reportOnUncaughtException;
  report.reportOnUncaughtException = false;
  process.on('uncaughtExceptionMonitor', (error) => {
    if (onUncaught && process.listenerCount('uncaughtException') === 0) write('the diagnostic report', () => report.writeReport(error));
  });
  accessor(
    patcher,
    report,
    'reportOnUncaughtException',
    () => onUncaught,
    (value) => (onUncaught = value),
  );

  // Signals: Node's listener (armed by the flag) is replaced by ours, on whatever `signal` says when armed.
  let onSignal = report.reportOnSignal;
  report.reportOnSignal = false;
  let armedSignal: string | undefined;
  const onReportSignal = (): void => write('the diagnostic report', () => report.writeReport());
  const arm = (value: boolean): void => {
    if (armedSignal !== undefined) process.off(armedSignal, onReportSignal);
    armedSignal = value ? report.signal : undefined;
    if (armedSignal !== undefined) process.on(armedSignal, onReportSignal);
    onSignal = value;
  };
  arm(onSignal);
  accessor(patcher, report, 'reportOnSignal', () => onSignal, arm);

  // Signals reach the main thread only; Node's snapshot listener lives there.
  const heapSignal = isMainThread() ? nodeOption('heapsnapshot-signal') || undefined : undefined;
  if (heapSignal !== undefined) {
    // Installed by Node before any preload runs: the only listener at this point.
    for (const listener of process.listeners(heapSignal as NodeJS.Signals)) process.off(heapSignal, listener);
    // node:v8 is patched as it loads (fs.ts): this load, at the signal, is no exception.
    process.on(heapSignal, () => write('the heap snapshot', () => process.getBuiltinModule('node:v8').writeHeapSnapshot()));
  }

  if (!options.enforce) return;
  if (report.reportOnFatalError) {
    report.reportOnFatalError = false;
    diag.warn('provenant: --report-on-fatalerror is off in enforce mode: Node would write that report natively, with no decision');
  }
  const nativeFatal = Object.getOwnPropertyDescriptor(report, 'reportOnFatalError');
  accessor(
    patcher,
    report,
    'reportOnFatalError',
    () => false,
    (value) => {
      if (value) throw options.refuse('process.report.reportOnFatalError');
      nativeFatal?.set?.call(report, value);
    },
  );
}

/** In enforce mode, `v8.setHeapSnapshotNearHeapLimit` is refused: patched as `node:v8` loads (fs.ts). */
export function refuseNearHeapLimit(v8: object, patcher: Patcher, options: ArmedDumpsOptions): void {
  if (!options.enforce) return;
  patcher.wrapMethod(
    v8,
    'setHeapSnapshotNearHeapLimit',
    () =>
      function setHeapSnapshotNearHeapLimit(): never {
        throw options.refuse('v8.setHeapSnapshotNearHeapLimit');
      },
  );
}

/** Replace a getter/setter pair of `target` (restored on disable). */
function accessor(patcher: Patcher, target: object, name: string, get: () => boolean, set: (value: boolean) => void): void {
  const own = Object.getOwnPropertyDescriptor(target, name);
  Object.defineProperty(target, name, { get, set: (value: unknown) => set(Boolean(value)), enumerable: true, configurable: true });
  patcher.onRestore(() => {
    if (own) Object.defineProperty(target, name, own);
  });
}
