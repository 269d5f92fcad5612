/**
 * Re-entrancy guards. I/O that is already accounted for must not be recorded again underneath:
 * provenant's own I/O (config reads, journal and store writes) would otherwise make a record per
 * record, and the fs calls Node makes inside a wrapped fs call, or the socket an HTTP client opens,
 * belong to the flow of the outer call. Each use has its own guard so one never hides another;
 * only synchronous work can be wrapped (asynchronous internals use paths under the state dir,
 * which the instrumentations ignore).
 */
export class ReentrancyGuard {
  private depth = 0;

  /** True while some `run` of this guard is on the stack. */
  get active(): boolean {
    return this.depth > 0;
  }

  run<T>(fn: () => T): T {
    this.depth++;
    try {
      return fn();
    } finally {
      this.depth--;
    }
  }

  /**
   * `run` of a saved original on a receiver and its arguments: no closure, for wrappers on every
   * write (a closure inside the wrapper makes V8 allocate its scope on each call).
   */
  apply<T>(fn: (...args: never[]) => unknown, self: unknown, args: ArrayLike<unknown>): T {
    this.depth++;
    try {
      return Reflect.apply(fn, self, args) as T;
    } finally {
      this.depth--;
    }
  }

  /** Run `fn` as if no `run` were on the stack: app code called back from inside a guarded call (a cp `filter`). */
  outside<T>(fn: () => T): T {
    const depth = this.depth;
    this.depth = 0;
    try {
      return fn();
    } finally {
      this.depth = depth;
    }
  }
}

/** provenant's own I/O: never a flow. */
const ownIo = new ReentrancyGuard();

export function isInternal(): boolean {
  return ownIo.active;
}

export function internally<T>(fn: () => T): T {
  return ownIo.run(fn);
}
