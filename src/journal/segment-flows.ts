/**
 * Flow interning (format 4), both sides. A server answering requests repeats the same few flows
 * (read from the caller, response to the caller) with the same resource, sources, labels,
 * decision and policy; only the time, trace and span ids, user, sizes and some attribute values
 * (the caller's port, the path) change. The second time a flow occurs in a segment the writer
 * defines it as a leaf (`{"seq":N,"define":"flow",…}`) and from then on writes each occurrence as
 * `{"seq":M,"flow":N,…}` with only its own fields. A flow seen once is written whole, so work that
 * never repeats (a batch job touching many files) pays nothing. Like source sets, a segment
 * defines every flow its records name: it reads on its own, and retention never leaves a dangling
 * reference.
 */
import { FLOW_RECORD_FIELDS, type FlowRecord } from '../engine/flow-record.js';
import { BoundedCache } from '../support/bounded-cache.js';
import { Doorkeeper, keyHash, mixHash } from '../support/doorkeeper.js';
import { stringHash } from '../support/string-hash.js';
import { DefinitionError } from './format.js';

type Attributes = NonNullable<FlowRecord['attributes']>;
type Field = (typeof FLOW_RECORD_FIELDS)[number];

/** What a flow definition states: what the occurrences of one flow share. */
export const FLOW_FIELDS = ['op', 'resource', 'sources', 'labels', 'decision', 'rule', 'reason', 'policy', 'action'] as const;
/** What each occurrence states besides seq and time (format 4; format 5 encodes them, see occurrences.ts); `attributes` holds only the values that differ from the definition's. */
const OCCURRENCE_FIELDS = ['bytes', 'contentDigest', 'user', 'traceId', 'spanId'] as const;
/** Records with these are written whole (attestations and verdicts: rare, and read on their own). */
const WHOLE_ONLY: readonly Field[] = ['fact', 'verdict', 'evidence'];

/** Compile-time check that every record field is a flow's, an occurrence's, attributes or whole-only. */
type Unplaced = Exclude<
  Field,
  (typeof FLOW_FIELDS)[number] | (typeof OCCURRENCE_FIELDS)[number] | 'attributes' | 'fact' | 'verdict' | 'evidence'
>;
export const everyFieldPlaced: [Unplaced] extends [never] ? true : never = true;

const IS_FLOW_FIELD = new Set<string>(FLOW_FIELDS);
const IS_OCCURRENCE_FIELD = new Set<string>(OCCURRENCE_FIELDS);

/** A flow defined in the writer's segment at `seq` with these attribute values. */
interface KnownFlow {
  readonly seq: number;
  readonly attributes: Attributes | undefined;
  /** The flow's labels as written and its policy digest: compared on lookup (long, so not part of the key). */
  readonly labels: string;
  readonly policy: string | undefined;
  readonly weight: number;
}

/** Flows kept for lookup, weighed in characters of their keys and labels (~200 each): ~5,000 flows, about 2 MiB. */
const KNOWN_WEIGHT = 1 << 20;
/** Flows seen once, told apart by hash only (4 bytes each): ~5,000 flows, 32 KiB. */
const SIGHTED_FLOWS = 5_000;

/** How the writer writes a record: whole, as a new definition and an occurrence, or as an occurrence of `seq`. */
export type FlowPlan = { whole: true; key?: string } | { define: string } | { seq: number; attributes: Attributes | undefined };

export class SegmentFlows {
  /** Defined flows only. A flow seen once is a hash in `sighted`: a record of a flow that never repeats (a new file per request) leaves nothing behind to survive a scavenge. */
  private readonly known = new BoundedCache<string, KnownFlow>(KNOWN_WEIGHT, (flow) => flow.weight);
  private readonly sighted = new Doorkeeper(SIGHTED_FLOWS);

  /**
   * `key` names the flow's op, resource, set, decision, rule, reason, action and attribute names
   * exactly; `labels` is its labels as written. A flow whose labels or policy changed under the
   * same key is a new flow (written whole, then defined again).
   */
  plan(record: FlowRecord, key: string, labels: string): FlowPlan {
    for (const field of WHOLE_ONLY) if (record[field] !== undefined) return { whole: true };
    const known = this.known.get(key);
    if (known !== undefined && known.labels === labels && known.policy === record.policy)
      return { seq: known.seq, attributes: known.attributes };
    return this.sighted.has(sighting(key, labels, record.policy)) ? { define: key } : { whole: true, key };
  }

  /** Marks the flow seen once (no definition yet). */
  seen(key: string, labels: string, policy: string | undefined): void {
    this.sighted.note(sighting(key, labels, policy));
  }

  defined(key: string, labels: string, policy: string | undefined, seq: number, attributes: Attributes | undefined): void {
    this.known.set(key, { seq, attributes, labels, policy, weight: key.length + labels.length });
  }
}

/** A flow's key, labels and policy as one hash: a flow whose labels or policy changed is another flow. */
function sighting(key: string, labels: string, policy: string | undefined): number {
  return mixHash(mixHash(keyHash(key), stringHash(labels)), policy === undefined ? 0 : stringHash(policy)) || 1;
}

/** The attribute names of a record, in order: part of its flow's identity (an occurrence only overrides values). */
export function attributeNames(attributes: Attributes | undefined): string {
  return attributes === undefined ? '' : Object.keys(attributes).join('\n');
}

/** A flow definition as stored: the flow fields (sources by set reference) and attributes. */
export type FlowDefinition = Partial<Record<(typeof FLOW_FIELDS)[number], unknown>> & { attributes?: Attributes };

/**
 * The reader's side: the flows one segment defines, and occurrences resolved to whole records in
 * the field order of `FLOW_RECORD_FIELDS` (the order a whole record has), so every reader prints
 * the same record for the same flow in format 3 and 4.
 */
export class FlowResolver {
  private readonly definitions = new Map<number, FlowDefinition>();

  /**
   * Registers the definition at `seq` (parsed from its line). `hasSet` says whether a set
   * reference names a set defined earlier in the segment. Throws on a malformed definition.
   */
  define(seq: number, parsed: Record<string, unknown>, hasSet: (seq: number) => boolean): void {
    const definition: FlowDefinition = {};
    for (const [name, value] of Object.entries(parsed)) {
      if (name === 'seq' || name === 'define' || name === 'hash' || name === 'h') continue;
      if (name === 'attributes') {
        if (!isAttributes(value)) throw new DefinitionError('flow definition with malformed attributes');
        definition.attributes = value;
      } else if (IS_FLOW_FIELD.has(name)) {
        definition[name as (typeof FLOW_FIELDS)[number]] = value;
      } else {
        throw new DefinitionError(`flow definition states "${name}", which is not a flow's`);
      }
    }
    if (typeof definition.op !== 'string' || typeof definition.resource !== 'string')
      throw new DefinitionError('flow definition without op and resource');
    const sources = definition.sources;
    if (!(Array.isArray(sources) && sources.length === 0) && !(typeof sources === 'number' && hasSet(sources)))
      throw new DefinitionError('flow definition names no source set defined before it in this segment');
    this.definitions.set(seq, definition);
  }

  /** The attribute names of the flow defined at `flow`, in order; undefined when there is none or it has no attributes. */
  namesOf(flow: unknown): string[] | undefined {
    const attributes = typeof flow === 'number' ? this.definitions.get(flow)?.attributes : undefined;
    return attributes === undefined ? undefined : Object.keys(attributes);
  }

  /**
   * Checks an occurrence (what `verify` does of each): throws when its flow is not defined before
   * it in this segment, or it states a field of the flow or an attribute the flow does not have.
   * Returns the flow's definition.
   */
  check(stored: Record<string, unknown>): FlowDefinition {
    const flow = String(stored.flow);
    const definition = typeof stored.flow === 'number' ? this.definitions.get(stored.flow) : undefined;
    if (definition === undefined) throw new DefinitionError(`record names flow ${flow}, which is not defined before it in this segment`);
    for (const name in stored) {
      if (name === 'seq' || name === 'flow' || name === 'time' || name === 'hash' || name === 'attributes') continue;
      if (!IS_OCCURRENCE_FIELD.has(name)) throw new DefinitionError(`record names flow ${flow} and also states "${name}"`);
    }
    const overrides = stored.attributes;
    const defined = definition.attributes;
    if (
      overrides !== undefined &&
      !(isAttributes(overrides) && defined !== undefined && Object.keys(overrides).every((name) => name in defined))
    )
      throw new DefinitionError(`record names flow ${flow} but has attributes the flow does not`);
    return definition;
  }

  /** The record an occurrence stands for: its own fields and its flow's, in record order (sources still by reference). Throws as `check`. */
  resolve(stored: Record<string, unknown>): Record<string, unknown> {
    const definition = this.check(stored);
    const record: Record<string, unknown> = {};
    for (const field of FLOW_RECORD_FIELDS) {
      const value =
        field === 'attributes'
          ? definition.attributes && { ...definition.attributes, ...(stored.attributes as Attributes | undefined) }
          : IS_FLOW_FIELD.has(field)
            ? definition[field as (typeof FLOW_FIELDS)[number]]
            : stored[field];
      if (value !== undefined) record[field] = value;
    }
    return record;
  }
}

function isAttributes(value: unknown): value is Attributes {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.values(value).every((v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean');
}
