/**
 * The decision part of the engine: what the policy says about data flowing to a destination,
 * failing closed when the policy itself faults. The policy memoises decisions per (set,
 * destination, epoch); the per-context memo in context-memo.ts saves even that lookup.
 */
import { diag } from '@opentelemetry/api';
import { ProvenanceDeniedError } from '../errors.js';
import type { LabelSchema } from '../provenance/labels.js';
import type { ProvenanceSet } from '../provenance/provenance-set.js';
import type { Resource } from '../provenance/resource.js';
import type { ResourceLabelRule } from '../config/types.js';
import { faultDecision, type CompiledPolicy, type Decision } from '../policy/types.js';

/** Holder of the current compiled policy; swapped atomically on reload. */
export interface PolicySource {
  readonly current: CompiledPolicy;
  /** Label a resource at run time, ahead of the config's `resources` (recompiles: new epoch). */
  prependResource(rule: ResourceLabelRule): void;
}

/**
 * `policy.decide`, which never throws for a fault inside a rule; anything that escapes it all the
 * same is a policy fault too: denied in enforce mode, a violation in audit mode.
 */
export function decideFlow(policy: CompiledPolicy, data: ProvenanceSet, destination: Resource): Decision {
  try {
    return policy.decide(data, destination);
  } catch (error) {
    diag.error(`provenant: policy fault deciding a flow to ${destination.uri}`, error);
    return faultDecision(policy.mode, error);
  }
}

/** The error to surface for a denied flow of `data`, in the shape every API gets it. */
export function deniedError(schema: LabelSchema, decision: Decision, resource: Resource, data: ProvenanceSet): ProvenanceDeniedError {
  const labels = schema.toPublic(data.labels);
  return new ProvenanceDeniedError(decision.rule ?? 'policy', decision.reason ?? 'denied by policy', labels, resource.uri);
}
