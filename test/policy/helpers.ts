// Pure policy fixtures: a config parsed from YAML text (no file needed), its compiled policy,
// and helpers to derive data the way the flow engine does (read = withSource + labelsOf).
import { applyEnvironment, parseConfig } from '../../src/config/load.js';
import type { ProvenantConfig } from '../../src/config/types.js';
import { LabelSchema, type PublicLabels } from '../../src/provenance/labels.js';
import { ProvenanceSets, type ProvenanceSet } from '../../src/provenance/provenance-set.js';
import { ResourceRegistry, type Resource } from '../../src/provenance/resource.js';
import { compilePolicy } from '../../src/policy/compile.js';
import type { CompiledPolicy, Decision } from '../../src/policy/types.js';

export const NODE = 'n1';
export const CONFIG_DIR = '/srv/app';
export const CONFIG_FILE = `${CONFIG_DIR}/provenant.yaml`;

export function configFrom(yaml: string, env: NodeJS.ProcessEnv = {}): ProvenantConfig {
  return applyEnvironment(parseConfig(CONFIG_FILE, yaml, env, NODE), env);
}

export interface PolicyFixture {
  config: ProvenantConfig;
  schema: LabelSchema;
  policy: CompiledPolicy;
  registry: ResourceRegistry;
  sets: ProvenanceSets;
  /** Data after reading each source in turn (paths or URIs), as the engine derives it. */
  data(...sources: string[]): ProvenanceSet;
  /** `set` after one more read of `source`. */
  read(set: ProvenanceSet, source: string): ProvenanceSet;
  /** Data with explicit labels and no sources; `origin` is named as the carrier of every label. */
  labelled(labels: Partial<PublicLabels>, origin?: string): ProvenanceSet;
  /** `to`: a path, a URI or a resource already made (e.g. a service with a signed location). */
  decide(set: ProvenanceSet, to: string | Resource): Decision;
}

export function fixture(yaml: string, env: NodeJS.ProcessEnv = {}, epoch = 1): PolicyFixture {
  const config = configFrom(yaml, env);
  const schema = new LabelSchema(config.levels.confidentiality, config.levels.integrity);
  return fixtureFor(config, schema, compilePolicy(config, schema, epoch));
}

export function fixtureFor(config: ProvenantConfig, schema: LabelSchema, policy: CompiledPolicy): PolicyFixture {
  const registry = new ResourceRegistry(config.node);
  const sets = new ProvenanceSets(schema.neutral);
  const read = (set: ProvenanceSet, source: string): ProvenanceSet => {
    const resource = registry.parse(source);
    return sets.withSource(set, resource.uri, policy.labelsOf(resource));
  };
  return {
    config,
    schema,
    policy,
    registry,
    sets,
    read,
    data: (...sources) => sources.reduce(read, sets.empty),
    labelled: (labels, origin = 'test://origin') => {
      const parsed = schema.fromPublic(labels, schema.neutral);
      return sets.of([origin], parsed, {
        confidentiality: origin,
        integrity: origin,
        tags: Object.fromEntries(parsed.tags.map((tag) => [tag, origin])),
        locations: Object.fromEntries(parsed.locations.map((location) => [location, origin])),
      });
    },
    decide: (set, to) => policy.decide(set, typeof to === 'string' ? registry.parse(to) : to),
  };
}
