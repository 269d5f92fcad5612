/**
 * Compiles a ProvenantConfig into a CompiledPolicy: the object every write asks "may this data go
 * there?".
 *
 * Decision semantics, in order (the first step that decides wins):
 *
 * 1. **Revocation.** Data whose sources include a revoked URI, or a file at or under a revoked
 *    path, is denied with rule `revoked`. It is checked at decision time against the set's
 *    sources, so it is retroactive: data derived before the revocation is denied afterwards.
 *    No allow rule overrides it.
 * 2. **User rules, in file order.** The first rule whose conditions all match decides: `deny`
 *    denies with the rule's id and message; `allow` allows — an explicit exception that skips the
 *    built-in checks below. Conditions: `data.confidentiality|integrity {atLeast, atMost}`,
 *    `data.tags {any, all}` (a plain list means any), `data.sources` (globs over source URIs),
 *    `data.locations {in, notIn}` (in: some location of the data is listed; notIn: some location
 *    is not listed; data with no location matches neither); `destination.kind|path|host|port|
 *    service`, `destination.location {in, notIn}` (a destination of unknown location is never
 *    `in` and always `notIn`, so residency rules also stop flows to unknown hosts), and
 *    `destination.labels`. A rule with no conditions matches every flow.
 * 3. **Built-in lattice.** `confidentiality` (no write down): the data's confidentiality must not
 *    exceed the destination's; a destination no `resources` entry labels gets
 *    `defaults.confidentiality`. Then `integrity` (no write up): the data's integrity must be at
 *    least the destination's — applied only when the destination's matching `resources` entry sets
 *    `integrity` explicitly, because incoming unsigned request data is `untrusted` and checking it
 *    against the default `low` of every unlabeled file would deny writing request data anywhere.
 * 4. **Mode.** `audit` turns every deny into a `violation` (same rule and reason, the flow goes
 *    ahead); `off` allows everything without evaluating.
 * 5. **Faults.** An exception while deciding denies with rule `policy-fault` in enforce mode (fail
 *    closed) and is a `violation` in audit mode.
 *
 * Labels of a resource: the first matching `resources` entry, else `defaults`; this process's
 * stdout/stderr when they are the operator's console take any confidentiality (README: stdout and
 * stderr), so only a `resources` entry or a rule can deny logging. Locations: the
 * entry's `location`; else, for a `service://` peer, the location it signed; else, for this node's
 * files and processes, the config's top-level `location`; else unknown.
 *
 * Speed: decisions are memoised per (provenance set id, destination id) in a bounded cache owned by
 * this compiled policy; a reload compiles a new policy with a new epoch, so no decision survives
 * it. Per-set facts (tag bitset, revoked source, which rules' data conditions match) and
 * per-destination facts (labels, which rules' destination conditions match) are memoised too.
 * Ids must come from one ProvenanceSets and one ResourceRegistry (they are never reused).
 */
import type { Mode, PolicyRuleSpec, ProvenantConfig } from '../config/types.js';
import type { Labels, LabelSchema } from '../provenance/labels.js';
import type { ProvenanceSet } from '../provenance/provenance-set.js';
import type { Resource } from '../provenance/resource.js';
import { globBase } from '../config/glob.js';
import { BoundedCache } from '../support/bounded-cache.js';
import { confidentialityReason, integrityReason, revokedReason, ruleReason } from './explain.js';
import {
  compileDataCondition,
  compileDestinationCondition,
  compileResourceMatch,
  registerConditionTags,
  type DataFacts,
  type DataPredicate,
  type DestinationFacts,
  type DestinationPredicate,
  type ResourcePredicate,
} from './matchers.js';
import { Revocations } from './revocation.js';
import { TagBits } from './tag-bits.js';
import { ALLOW, faultDecision, type CompiledPolicy, type Decision, type DecisionKind } from './types.js';
import { policyDigest, policySource } from './policy-source.js';

/** Memoised decisions (a few dozen bytes each). */
export const DECISION_CACHE_SIZE = 16_384;
/** Per-destination facts keep their resource and label masks alive (~800 bytes each): about 3 MiB. */
const DESTINATION_FACTS_SIZE = 4096;
/** Per-set facts keep their set alive: weighed in its source references, an entry counting as 16. */
const FACTS_WEIGHT_LIMIT = 16 * 4096;
/** Below these bounds (set id, destination id) packs into one exact number key (< 2^53). */
const DEST_ID_BITS = 2 ** 21;
const SET_ID_LIMIT = 2 ** 32;

interface CompiledRule {
  readonly spec: PolicyRuleSpec;
  readonly data: DataPredicate;
  readonly destination: DestinationPredicate;
}

interface LabelEntry {
  readonly matches: ResourcePredicate;
  readonly labels: Labels;
  readonly location: string | undefined;
  readonly integrityExplicit: boolean;
}

/** Per-rule memo of a condition's result: 0 not yet evaluated, 1 no, 2 yes. */
const UNKNOWN = 0;
const NO = 1;
const YES = 2;

interface SetFactsEntry extends DataFacts {
  readonly revokedSource: string | undefined;
  readonly ruleMatches: Uint8Array;
}

interface DestinationFactsEntry extends DestinationFacts {
  readonly ruleMatches: Uint8Array;
}

export function compilePolicy(config: ProvenantConfig, schema: LabelSchema, epoch: number): CompiledPolicy {
  return new Policy(config, schema, epoch);
}

class Policy implements CompiledPolicy {
  readonly mode: Mode;
  readonly source: string;
  readonly digest: string;
  readonly labelledFolders: readonly string[];
  private readonly tags = new TagBits();
  private readonly entries: readonly LabelEntry[];
  private readonly defaultLabels: Labels;
  private readonly consoleLabels: Labels;
  private readonly rules: readonly CompiledRule[];
  private readonly revocations: Revocations;
  private readonly decisions = new BoundedCache<number | string, Decision>(DECISION_CACHE_SIZE, undefined, { admitRepeats: true });
  private readonly setFacts = new BoundedCache<number, SetFactsEntry>(FACTS_WEIGHT_LIMIT, (facts) => 16 + facts.set.sources.length, {
    admitRepeats: true,
  });
  private readonly destinationFacts = new BoundedCache<number, DestinationFactsEntry>(DESTINATION_FACTS_SIZE, undefined, {
    admitRepeats: true,
  });

  constructor(
    private readonly config: ProvenantConfig,
    readonly schema: LabelSchema,
    readonly epoch: number,
  ) {
    this.mode = config.mode;
    this.source = policySource(config);
    this.digest = policyDigest(this.source);
    // Every tag the config names gets its bit before any mask is built.
    for (const entry of config.resources) for (const tag of entry.labels.tags ?? []) this.tags.register(tag);
    for (const rule of config.rules) {
      registerConditionTags(rule.data?.tags, this.tags);
      registerConditionTags(rule.destination?.labels?.tags, this.tags);
    }
    this.defaultLabels = schema.fromSpec(config.defaults, schema.neutral);
    this.consoleLabels = { ...this.defaultLabels, confidentiality: schema.confidentiality.length - 1 };
    this.entries = config.resources.map((entry) => ({
      matches: compileResourceMatch(entry.match),
      labels: schema.fromSpec({ ...entry.labels, location: undefined }, this.defaultLabels),
      location: entry.labels.location,
      integrityExplicit: entry.labels.integrity !== undefined,
    }));
    this.rules = config.rules.map((spec) => ({
      spec,
      data: spec.data ? compileDataCondition(spec.data, schema, this.tags) : () => true,
      destination: spec.destination ? compileDestinationCondition(spec.destination, schema, this.tags) : () => true,
    }));
    this.revocations = new Revocations(config.node, config.revoked);
    // Only entries that label above defaults: a public folder holds no name whose labels matter.
    const defaults = this.defaultLabels;
    const folders = config.resources.flatMap(({ match }, i) => {
      const { labels, location } = this.entries[i];
      const labelled =
        labels.confidentiality !== defaults.confidentiality ||
        labels.integrity !== defaults.integrity ||
        labels.tags.length > 0 ||
        location !== undefined;
      return match.path !== undefined && labelled ? [globBase(match.path)] : [];
    });
    this.labelledFolders = [...new Set(folders)];
  }

  get defaults(): Labels {
    return this.defaultLabels;
  }

  labelsOf(resource: Resource): Labels {
    return this.destinationFactsOf(resource).labels;
  }

  isRevoked(uriOrPath: string): boolean {
    return this.revocations.isRevoked(uriOrPath);
  }

  decide(data: ProvenanceSet, destination: Resource): Decision {
    if (this.mode === 'off') return ALLOW;
    const key =
      data.id < SET_ID_LIMIT && destination.id < DEST_ID_BITS ? data.id * DEST_ID_BITS + destination.id : `${data.id}:${destination.id}`;
    const cached = this.decisions.get(key);
    if (cached !== undefined) return cached;
    let decision: Decision;
    try {
      decision = this.withMode(this.evaluate(data, destination));
    } catch (error) {
      // Not memoised: a transient fault should not stick for the life of the policy.
      return faultDecision(this.mode, error);
    }
    this.decisions.set(key, decision);
    return decision;
  }

  private evaluate(set: ProvenanceSet, resource: Resource): Decision {
    const data = this.setFactsOf(set);
    if (data.revokedSource !== undefined) return deny('revoked', revokedReason(data.revokedSource));
    const destination = this.destinationFactsOf(resource);
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i];
      let dataMatch = data.ruleMatches[i];
      if (dataMatch === UNKNOWN) data.ruleMatches[i] = dataMatch = rule.data(data) ? YES : NO;
      if (dataMatch === NO) continue;
      let destinationMatch = destination.ruleMatches[i];
      if (destinationMatch === UNKNOWN) destination.ruleMatches[i] = destinationMatch = rule.destination(destination) ? YES : NO;
      if (destinationMatch === NO) continue;
      if (rule.spec.effect === 'allow') return Object.freeze({ kind: 'allow', rule: rule.spec.id });
      return deny(rule.spec.id, ruleReason(rule.spec, this.schema, set, destination));
    }
    if (set.labels.confidentiality > destination.labels.confidentiality) {
      return deny('confidentiality', confidentialityReason(this.schema, set, destination));
    }
    if (destination.integrityExplicit && set.labels.integrity < destination.labels.integrity) {
      return deny('integrity', integrityReason(this.schema, set, destination));
    }
    return ALLOW;
  }

  private withMode(decision: Decision): Decision {
    if (decision.kind !== 'deny' || this.mode !== 'audit') return decision;
    return Object.freeze({ ...decision, kind: 'violation' satisfies DecisionKind });
  }

  private setFactsOf(set: ProvenanceSet): SetFactsEntry {
    const cached = this.setFacts.get(set.id);
    if (cached !== undefined && cached.set === set) return cached;
    const facts: SetFactsEntry = {
      set,
      tagMask: this.tags.mask(set.labels.tags),
      revokedSource: this.revocations.firstRevoked(set.sources),
      ruleMatches: new Uint8Array(this.rules.length),
    };
    this.setFacts.set(set.id, facts);
    return facts;
  }

  private destinationFactsOf(resource: Resource): DestinationFactsEntry {
    const cached = this.destinationFacts.get(resource.id);
    if (cached !== undefined && cached.resource === resource) return cached;
    const entry = this.entries.find((candidate) => candidate.matches(resource));
    const location =
      entry?.location ?? resource.location ?? (resource.kind === 'file' || resource.kind === 'process' ? this.config.location : undefined);
    const base = entry?.labels ?? (resource.console === true ? this.consoleLabels : this.defaultLabels);
    const labels: Labels = location === undefined ? base : { ...base, locations: [location] };
    const facts: DestinationFactsEntry = {
      resource,
      labels,
      tagMask: this.tags.mask(labels.tags),
      location,
      integrityExplicit: entry?.integrityExplicit ?? false,
      ruleMatches: new Uint8Array(this.rules.length),
    };
    this.destinationFacts.set(resource.id, facts);
    return facts;
  }
}

function deny(rule: string, reason: string): Decision {
  return Object.freeze({ kind: 'deny', rule, reason });
}
