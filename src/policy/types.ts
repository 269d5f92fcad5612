/**
 * What the rest of provenant needs from a compiled policy. src/policy/ implements it; the
 * engine only ever talks to this interface.
 */
import type { Mode } from '../config/types.js';
import type { Labels, LabelSchema } from '../provenance/labels.js';
import type { ProvenanceSet } from '../provenance/provenance-set.js';
import type { Resource } from '../provenance/resource.js';
import { faultReason } from './explain.js';

export type DecisionKind = 'allow' | 'deny' | 'violation';

export interface Decision {
  readonly kind: DecisionKind;
  /** Rule that decided a deny/violation (user rule id, or `confidentiality` | `integrity` | `revoked` | `policy-fault`); an allow rule's id when one allowed explicitly. */
  readonly rule?: string;
  /** A sentence a person understands, naming the offending source and the destination's label. */
  readonly reason?: string;
}

export const ALLOW: Decision = Object.freeze({ kind: 'allow' });

/** A fault of the policy engine fails closed: denied in enforce mode, recorded as a violation in audit mode. */
export function faultDecision(mode: Mode, error: unknown): Decision {
  return Object.freeze({ kind: mode === 'audit' ? 'violation' : 'deny', rule: 'policy-fault', reason: faultReason(error) });
}

export interface CompiledPolicy {
  /** Increases on every (re)compilation; memo keys include it so no stale decision survives a reload. */
  readonly epoch: number;
  /** `sha256:<hex>` of `source`: what journal records name the policy that decided them by. */
  readonly digest: string;
  /** Canonical text of the policy (see policy-source.ts), kept content-addressed for replay. */
  readonly source: string;
  readonly mode: Mode;
  readonly schema: LabelSchema;
  /** Labels of anything no `resources` entry matches (config `defaults`). */
  readonly defaults: Labels;
  /** Labels of a resource as a source or a destination: first matching `resources` entry, else `defaults`. */
  labelsOf(resource: Resource): Labels;
  /** The decision for data with provenance `data` flowing to `destination` (memoised). */
  decide(data: ProvenanceSet, destination: Resource): Decision;
  /** Folders (or files) outside of which no `resources` path entry labels a file: where other names of a labelled file can be. */
  readonly labelledFolders: readonly string[];
  /** True when the URI (or a file path) is revoked. */
  isRevoked(uri: string): boolean;
}
