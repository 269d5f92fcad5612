/**
 * Re-entrancy guard: I/O that provenant itself performs (config reads, journal and store writes,
 * module loading) must never be recorded as a flow, or every record would create another record.
 * Only synchronous work can be wrapped; asynchronous internals use paths under the state dir,
 * which the instrumentations ignore.
 */
let depth = 0;

export function isInternal(): boolean {
  return depth > 0;
}

export function internally<T>(fn: () => T): T {
  depth++;
  try {
    return fn();
  } finally {
    depth--;
  }
}
