/**
 * Data handed to a child process (argv, environment, stdin, IPC messages) is a flow to
 * `process://<node>/<command>`; what it prints back is a read from it. A Node child under
 * provenant with this process's policy gets the context's labels in a signed environment claim
 * and is recorded as an `inherited` flow; any other child is decided like any destination.
 */
import { diag, type Attributes } from '@opentelemetry/api';
import type { FlowEngine } from '../../engine/flow-engine.js';
import type { ProvenanceDeniedError } from '../../errors.js';
import type { ProvenanceSet } from '../../provenance/provenance-set.js';
import type { Resource } from '../../provenance/resource.js';
import type { ChildClaims } from '../instrumentation.js';
import { runsUnderProvenant, type ChildSpec, type PolicyIdentity } from './node-child.js';

/** A running child: where its flows go, and what it already holds. */
export interface ChildFlow {
  readonly resource: Resource;
  /** Everything handed to it so far; what it prints back derives from this. */
  handed: ProvenanceSet;
  readonly attributes: Attributes;
}

export type SpawnOutcome =
  { readonly denied: ProvenanceDeniedError } | { readonly flow: ChildFlow; readonly env: Readonly<Record<string, string | undefined>> };

export class ChildFlows {
  constructor(
    private readonly engine: FlowEngine,
    private readonly claims: ChildClaims,
    private readonly identity: PolicyIdentity,
  ) {}

  /** Decide a spawn before anything starts; on allow, the environment the child gets. */
  spawn(child: ChildSpec): SpawnOutcome {
    try {
      return this.decideSpawn(child);
    } catch (error) {
      // A fault of the policy itself already failed closed in the engine; this is provenant's own bug.
      diag.warn(`provenant: checking a spawn of ${child.file} failed; it proceeds`, error);
      return {
        flow: { resource: this.engine.resources.command(child.file), handed: this.engine.sets.empty, attributes: {} },
        env: child.env,
      };
    }
  }

  private decideSpawn(child: ChildSpec): SpawnOutcome {
    const resource = this.engine.resources.command(child.file);
    const attributes: Attributes = { 'process.executable.name': resource.command ?? child.file };
    const data = this.engine.contexts.current().provenance;
    const env = this.withoutClaim(child.env);
    if (runsUnderProvenant(child, this.identity)) {
      const additions = this.claims.environment({ labels: this.engine.schema.toPublic(data.labels), sources: data.sources });
      if (additions !== undefined) {
        this.engine.fixedFlow(resource, { kind: 'inherited' }, undefined, { attributes });
        return { flow: { resource, handed: data, attributes }, env: withDefaults(env, additions, this.claims.variable) };
      }
    }
    const decision = this.engine.authorizeWrite(resource, undefined, { attributes });
    if (decision.kind === 'deny') return { denied: this.engine.deniedError(decision, resource) };
    return { flow: { resource, handed: data, attributes }, env };
  }

  /**
   * The parent at the other end of this process's IPC channel: it reads our messages without
   * their labels, so what it did not hand over is decided, as `process://<node>/<pid>/parent`
   * (unlabelled unless a `resources` entry matches `process: parent`).
   */
  parent(handed: ProvenanceSet | undefined): ChildFlow {
    const resource = this.engine.resources.parent();
    return { resource, handed: handed ?? this.engine.sets.empty, attributes: { 'process.parent_pid': process.ppid } };
  }

  /** Data written to a running child (stdin, IPC): nothing to decide when the child already holds it. */
  input(flow: ChildFlow, bytes: number | undefined): ProvenanceDeniedError | undefined {
    const data = this.engine.contexts.current().provenance;
    if (this.engine.sets.union(flow.handed, data) === flow.handed) return undefined;
    const decision = this.engine.authorizeWrite(flow.resource, bytes, { attributes: flow.attributes });
    if (decision.kind === 'deny') return this.engine.deniedError(decision, flow.resource);
    flow.handed = this.engine.sets.union(flow.handed, data);
    return undefined;
  }

  /** Output of a child read back: the command's labels plus everything handed to it. */
  output(flow: ChildFlow, bytes: number | undefined): void {
    this.engine.read(flow.resource, bytes, { provenance: flow.handed, attributes: flow.attributes });
  }

  /** A claim in the environment is only ever the one provenant puts there. */
  private withoutClaim(env: Readonly<Record<string, string | undefined>>): Readonly<Record<string, string | undefined>> {
    if (env[this.claims.variable] === undefined) return env;
    const copy = { ...env };
    delete copy[this.claims.variable];
    return copy;
  }
}

/** `additions` for every variable the app left unset; the claim always. */
function withDefaults(
  env: Readonly<Record<string, string | undefined>>,
  additions: Readonly<Record<string, string>>,
  claimVariable: string,
): Record<string, string | undefined> {
  const merged = { ...env };
  for (const [key, value] of Object.entries(additions)) {
    if (key === claimVariable || merged[key] === undefined || merged[key] === '') merged[key] = value;
  }
  return merged;
}
