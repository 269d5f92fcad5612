/**
 * The decision for a write to this process's stdout or stderr, `process://<node>/stdout|stderr`
 * (README: stdout and stderr). Shared by the stream wrappers (process/stdio.ts) and the fd-level
 * fs API (`fs.writeSync(1, …)`, the way pino/sonic-boom log), so both ways to fd 1 and 2 are one
 * resource with one decision. A write the stream wrapper already decided reaches fd 1 or 2
 * through Node's own `fs.writeSync` (stdout redirected to a file): `passing` marks it so it is
 * not decided twice.
 */
import type { ProvenantConfig, StdioStream } from '../config/types.js';
import type { FlowEngine } from '../engine/flow-engine.js';
import type { ProvenanceDeniedError } from '../errors.js';
import type { ProvenanceSet } from '../provenance/provenance-set.js';
import type { Resource } from '../provenance/resource.js';
import { ReentrancyGuard } from '../support/reentrancy.js';

interface Stream {
  readonly resource: Resource;
  readonly options: { attributes: Record<string, string> };
  /** An unlabelled console is written by every request: its allowed writes are decided, not journaled. */
  readonly recordAll: boolean;
}

export class StdioGate {
  /** A write made while deciding one (provenant's own diagnostics on stderr) is not the app's. */
  readonly deciding = new ReentrancyGuard();
  /** A write already decided on its way down to the fd. */
  readonly passing = new ReentrancyGuard();
  private readonly streams: Record<StdioStream, Stream>;

  constructor(
    private readonly engine: FlowEngine,
    config: ProvenantConfig,
    /** What an instrumented parent handed over (it reads our stdout back): writing only that is no new flow. */
    private readonly inherited: ProvenanceSet | undefined,
  ) {
    const stream = (name: StdioStream): Stream => ({
      resource: engine.resources.stdio(name, inherited === undefined),
      options: { attributes: { 'provenant.stdio': name } },
      recordAll: config.resources.some((entry) => entry.match.stdio === name),
    });
    this.streams = { stdout: stream('stdout'), stderr: stream('stderr') };
  }

  /** The destination a write to the stream is a flow to, and its attributes. */
  target(name: StdioStream): { readonly resource: Resource; readonly attributes: Record<string, string> } {
    const { resource, options } = this.streams[name];
    return { resource, attributes: options.attributes };
  }

  /** The stream fd 1 or 2 is, else undefined. */
  static streamOf(fd: unknown): StdioStream | undefined {
    return fd === 1 ? 'stdout' : fd === 2 ? 'stderr' : undefined;
  }

  /** Decides a write of `bytes` to the stream; the error to surface when it is denied. */
  authorize(name: StdioStream, bytes: number | undefined): ProvenanceDeniedError | undefined {
    const { resource, options, recordAll } = this.streams[name];
    return this.deciding.run(() => {
      const data = this.engine.contexts.current().provenance;
      if (this.inherited !== undefined && this.engine.sets.union(this.inherited, data) === this.inherited) return undefined;
      if (!recordAll && this.engine.decide(resource).kind === 'allow') return undefined;
      const decision = this.engine.authorizeWrite(resource, bytes, options);
      return decision.kind === 'deny' ? this.engine.deniedError(decision, resource) : undefined;
    });
  }
}
