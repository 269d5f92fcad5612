/**
 * The OpenLineage event shapes provenant emits and their facets: the spec's `lineage` dataset
 * facet (each output lists the datasets it derives from, without columns), `tags` for the labels
 * (pii and other tags, confidentiality, integrity, locations) and two custom facets, `provenant`
 * on an output (its decision, rule and policy) and `provenant` on a run (trace id, denials).
 * Custom facets carry `_producer` and a `_schemaURL`: the README section (shown on the package's
 * page) that holds their JSON Schema, which custom-facets.ts also exports.
 */
import type { PublicLabels } from '../provenance/labels.js';

export const SPEC_VERSION = '2-0-2';
export const RUN_EVENT_SCHEMA = `https://openlineage.io/spec/${SPEC_VERSION}/OpenLineage.json#/$defs/RunEvent`;
const LINEAGE_FACET_SCHEMA = 'https://openlineage.io/spec/facets/1-0-0/LineageFacet.json#/$defs/LineageDatasetFacet';
const TAGS_FACET_SCHEMA = 'https://openlineage.io/spec/facets/1-0-0/TagsDatasetFacet.json#/$defs/TagsDatasetFacet';

/** This package version's page: `producer` of every event and facet. */
export function producerUri(version: string): string {
  return `https://www.npmjs.com/package/provenant/v/${version}`;
}

export interface BaseFacet {
  _producer: string;
  _schemaURL: string;
}

export interface DatasetRef {
  namespace: string;
  name: string;
}

export interface LineageDatasetFacet extends BaseFacet {
  inputs: (DatasetRef & { type: 'DATASET' })[];
}

export interface TagsDatasetFacet extends BaseFacet {
  tags: { key: string; value: string; source: string }[];
}

export interface OutputFlowFacet extends BaseFacet {
  /** allow, or violation (audit mode: a rule forbade it and it happened). */
  decision: string;
  rule?: string;
  reason?: string;
  /** Digest of the compiled policy that decided. */
  policy?: string;
  /** Journal records behind this output (repeats included). */
  records: number;
}

export interface Denial {
  destination: string;
  rule: string;
  reason: string;
  time: string;
  policy?: string;
}

export interface RunFlowFacet extends BaseFacet {
  service: string;
  node: string;
  traceId?: string;
  user?: string;
  /** Writes the policy denied in this run: nothing moved, so they are no outputs. */
  denials: Denial[];
}

export interface Dataset extends DatasetRef {
  facets?: { lineage?: LineageDatasetFacet; tags?: TagsDatasetFacet; provenant?: OutputFlowFacet };
}

export interface RunEvent {
  eventType: 'START' | 'COMPLETE';
  eventTime: string;
  producer: string;
  schemaURL: string;
  run: { runId: string; facets?: { provenant: RunFlowFacet } };
  job: { namespace: string; name: string };
  inputs: Dataset[];
  outputs: Dataset[];
}

export function lineageFacet(producer: string, inputs: readonly DatasetRef[]): LineageDatasetFacet {
  return {
    _producer: producer,
    _schemaURL: LINEAGE_FACET_SCHEMA,
    inputs: inputs.map(({ namespace, name }) => ({ namespace, name, type: 'DATASET' })),
  };
}

export function tagsFacet(producer: string, labels: PublicLabels): TagsDatasetFacet {
  const tag = (key: string, value: string): TagsDatasetFacet['tags'][number] => ({ key, value, source: 'provenant' });
  return {
    _producer: producer,
    _schemaURL: TAGS_FACET_SCHEMA,
    tags: [
      ...labels.tags.map((name) => tag(name, 'true')),
      tag('confidentiality', labels.confidentiality),
      tag('integrity', labels.integrity),
      ...labels.locations.map((location) => tag('location', location)),
    ],
  };
}

export function customFacetSchema(producer: string, name: 'OutputFlowFacet' | 'RunFlowFacet'): string {
  return `${producer}#openlineage-${name.toLowerCase()}`;
}
