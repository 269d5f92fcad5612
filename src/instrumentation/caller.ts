/**
 * Who called a patched function: the file of the first stack frame outside provenant and Node's
 * internals. Used only where an exemption must be tied to one library's own call site (the app's
 * OpenTelemetry exporter and resource detectors, Node's own IPC control messages), never on a hot path: a stack capture costs
 * microseconds, so callers check cheap conditions (the destination) first.
 */
import { OWN_DIR } from '../support/own-files.js';

/** provenant's built output (dist/): its own frames are skipped. */
const PROVENANT_DIR = OWN_DIR;

export function callerFile(): string | undefined {
  const file = firstFrameFile((frame) => frame.startsWith('node:') || frame.startsWith(PROVENANT_DIR));
  return file?.startsWith('file://') === true ? decodeURIComponent(file.slice('file://'.length)) : file;
}

/** The file of the first of the innermost 16 stack frames that `skip` does not pass over. */
export function firstFrameFile(skip: (file: string) => boolean): string | undefined {
  for (const site of callSites(16)) {
    const file = site.getFileName();
    if (file !== null && !skip(file)) return file;
  }
  return undefined;
}

/** How many frames of the current stack are calls of `name` in file `file`. */
export function framesOf(file: string, name: string): number {
  let count = 0;
  for (const site of callSites(Infinity)) if (site.getFunctionName() === name && site.getFileName() === file) count++;
  return count;
}

function callSites(limit: number): NodeJS.CallSite[] {
  const prepare = Error.prepareStackTrace;
  const previousLimit = Error.stackTraceLimit;
  const holder: { stack?: NodeJS.CallSite[] } = {};
  try {
    Error.prepareStackTrace = (_error, sites) => sites;
    Error.stackTraceLimit = limit;
    Error.captureStackTrace(holder);
    // Read now: V8 formats the stack lazily, with whatever prepareStackTrace is set then.
    return holder.stack ?? [];
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = previousLimit;
  }
}

/** True when the first caller outside provenant and Node's internals is a file `module` matches. */
export function calledFrom(module: RegExp): boolean {
  return calledFromAny([module]);
}

/** As `calledFrom`, for a file any of `modules` matches (one stack capture). */
export function calledFromAny(modules: readonly RegExp[]): boolean {
  const file = callerFile();
  return file !== undefined && modules.some((module) => module.test(file));
}
