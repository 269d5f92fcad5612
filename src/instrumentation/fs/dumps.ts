/**
 * Writers of whole-process dumps that Node performs natively, out of reach of the fs patches:
 * `v8.writeHeapSnapshot` and `process.report.writeReport`. A heap snapshot of a process holding
 * secrets is secret, so each is a write to its file, decided (engine.authorizeProcessDump) with
 * everything the process has read, before anything is written. When the app names no file, the
 * name Node would choose is made here (same pattern) so the destination is known beforehand.
 * `v8.getHeapSnapshot()` hands the same dump to JS as a stream: the calling context reads everything
 * the process has read before the stream exists, so wherever its bytes go is decided with that.
 */
import { resolve } from 'node:path';
import type { ProvenanceDeniedError } from '../../errors.js';
import type { FsFlows } from './flows.js';
import type { Patcher } from '../patcher.js';

let sequence = 0;

/** `<prefix>.YYYYMMDD.HHMMSS.<pid>.0.<seq>.<extension>`, as Node names dumps. */
function defaultName(prefix: string, extension: string): string {
  const now = new Date();
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  const date = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}`;
  const time = `${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  return `${prefix}.${date}.${time}.${process.pid}.0.${pad(++sequence, 3)}.${extension}`;
}

function decide(flows: FsFlows, file: string, kind: string): ProvenanceDeniedError | undefined {
  return flows.recording ? flows.processDump(file, kind) : undefined;
}

/** `v8.writeHeapSnapshot` and `v8.getHeapSnapshot`: patched as `node:v8` loads (fs.ts). */
export function patchHeapSnapshots(v8: object, flows: FsFlows, patcher: Patcher): void {
  patcher.wrapMethod(
    v8,
    'getHeapSnapshot',
    (original) =>
      function getHeapSnapshot(this: unknown, ...args: unknown[]): unknown {
        if (flows.recording) flows.processDumpRead('heap snapshot');
        return Reflect.apply(original, this, args);
      },
  );
  patcher.wrapMethod(
    v8,
    'writeHeapSnapshot',
    (original) =>
      function writeHeapSnapshot(this: unknown, filename?: unknown, ...rest: unknown[]): unknown {
        const file = typeof filename === 'string' ? filename : defaultName('Heap', 'heapsnapshot');
        const denied = decide(flows, resolve(file), 'heap snapshot');
        if (denied !== undefined) throw denied;
        return Reflect.apply(original, this, [file, ...rest]);
      },
  );
}

export function patchReports(report: object | undefined, flows: FsFlows, patcher: Patcher): void {
  if (report === undefined) return;
  patcher.wrapMethod(
    report,
    'writeReport',
    (original) =>
      function writeReport(this: { directory?: string; filename?: string }, filename?: unknown, ...rest: unknown[]): unknown {
        // writeReport(error) names no file (then `report.filename` or Node's pattern does); 'stdout' and 'stderr' are streams, not files.
        const named = typeof filename === 'string' ? filename : this.filename || defaultName('report', 'json');
        if (named === 'stdout' || named === 'stderr') return Reflect.apply(original, this, arguments);
        const args = typeof filename === 'string' ? [named, ...rest] : [named, filename, ...rest];
        const denied = decide(flows, resolve(this.directory || process.cwd(), named), 'diagnostic report');
        if (denied !== undefined) throw denied;
        return Reflect.apply(original, this, args);
      },
  );
}
