/**
 * How one record is written in format 5: the lines it adds to the current segment (a source set
 * definition, a flow definition, the record whole or as an occurrence of its flow) with their
 * leaf hashes. The writer owns the segment's state and the tree; this module only encodes.
 */
import { FLOW_RECORD_FIELDS, type FlowRecord } from '../engine/flow-record.js';
import { definitionCanonical, FLOW_MARK, recordLine } from './format.js';
import { leafHash } from './merkle.js';
import { wholeNote, type RecentNote, type RecentRecords } from './occurrences.js';
import { attributeNames, FLOW_FIELDS, type SegmentFlows } from './segment-flows.js';
import type { SegmentSets } from './segment-sets.js';

const FIELD_PREFIXES = FLOW_RECORD_FIELDS.map((field) => `,"${field}":`);
const SOURCES = FLOW_RECORD_FIELDS.indexOf('sources');
const ATTRIBUTES = FLOW_RECORD_FIELDS.indexOf('attributes');
const LABELS = FLOW_RECORD_FIELDS.indexOf('labels');
const FLOW_INDICES = FLOW_FIELDS.map((field) => FLOW_RECORD_FIELDS.indexOf(field));

/** What the encoder reads of the segment being written (it changes nothing: the writer does, once the lines are written). */
export interface SegmentState {
  readonly sets: SegmentSets;
  readonly flows: SegmentFlows;
  readonly recent: RecentRecords;
}

/** What one append writes, and what the segment learns from it once written. */
export interface Lines {
  text: string;
  leaves: Buffer[];
  bytes: number;
  setRef?: number;
  digest?: string;
  /** The record's flow: seen for the first time (no seq), or defined at seq by these lines; its labels as written. */
  flow?: { key: string; labels: string; seq?: number };
  /** The record's time, trace and pairs, for the occurrences after it. */
  recent: RecentNote;
}

/**
 * Each field of a record as it is written (`,"name":value`, '' when absent), in the order of
 * FLOW_RECORD_FIELDS: the bytes JSON.stringify would give, built field by field with no
 * intermediate object. Sources by reference. Service, node and pid are the header's.
 */
function fieldTexts(record: FlowRecord, setRef: number | undefined, labels: string): string[] {
  const texts: string[] = new Array<string>(FLOW_RECORD_FIELDS.length);
  for (let i = 0; i < FLOW_RECORD_FIELDS.length; i++) {
    if (i === SOURCES) {
      texts[i] = FIELD_PREFIXES[i] + (setRef === undefined ? '[]' : String(setRef));
      continue;
    }
    const value = i === LABELS ? labels : record[FLOW_RECORD_FIELDS[i]];
    texts[i] = value === undefined ? '' : FIELD_PREFIXES[i] + (i === LABELS ? labels : JSON.stringify(value));
  }
  return texts;
}

/**
 * What identifies a record's flow in its segment, short: labels and policy (the long parts) are
 * compared, not hashed (see SegmentFlows). Values are JSON so no separator can be forged.
 */
function flowKey(record: FlowRecord, setRef: number | undefined, names: string): string {
  const { op, resource, decision, rule, reason, action } = record;
  return `${op}\n${JSON.stringify(resource)}\n${setRef ?? ''}\n${decision ?? ''}\n${JSON.stringify(rule) ?? ''}\n${JSON.stringify(reason) ?? ''}\n${JSON.stringify(action) ?? ''}\n${names}`;
}

/**
 * The lines one record adds to the current segment: the definition of its source set when the
 * segment has none yet, the definition of its flow when this is the flow's second occurrence in
 * the segment, then the record: whole, or as an occurrence naming its flow's definition.
 */
export function linesFor(segment: SegmentState, firstSeq: number, record: FlowRecord): Lines {
  let seq = firstSeq;
  let text = '';
  const leaves: Buffer[] = [];
  let digest: string | undefined;
  let setRef: number | undefined;
  const leaf = (canonical: string): void => {
    const hash = leafHash(canonical);
    leaves.push(hash);
    text += recordLine(canonical, hash) + '\n';
  };
  if (record.sources.length > 0) {
    const plan = segment.sets.plan(record.sources);
    if ('seq' in plan) {
      setRef = plan.seq;
    } else {
      leaf(definitionCanonical(seq, plan.definition));
      digest = plan.definition.digest;
      setRef = seq++;
    }
  }
  const labels = JSON.stringify(record.labels);
  const names = attributeNames(record.attributes);
  const key = flowKey(record, setRef, names);
  const plan = segment.flows.plan(record, key, labels);
  let flow: Lines['flow'];
  // An occurrence: its own members, known before a definition is written (a record whose time is
  // no date is written whole).
  const occurrence =
    'whole' in plan
      ? undefined
      : segment.recent.encode('define' in plan ? seq + 1 : seq, record, names, 'define' in plan ? record.attributes : plan.attributes);
  let recent: RecentNote;
  if (occurrence === undefined || 'whole' in plan) {
    leaf(`{"seq":${seq},"time":"${new Date(record.time).toISOString()}"${fieldTexts(record, setRef, labels).join('')}}`);
    if ('whole' in plan ? plan.key !== undefined : 'define' in plan) flow = { key, labels };
    recent = wholeNote(seq, record);
  } else {
    let flowSeq: number;
    if ('define' in plan) {
      const fields = fieldTexts(record, setRef, labels);
      let flowPart = '';
      for (const i of FLOW_INDICES) flowPart += fields[i];
      leaf(`{"seq":${seq}${FLOW_MARK}${flowPart}${fields[ATTRIBUTES]}}`);
      flow = { key, labels, seq };
      flowSeq = seq++;
    } else {
      flowSeq = plan.seq;
    }
    leaf(`{"seq":${seq},"f":${flowSeq}${occurrence.text}}`);
    recent = occurrence.note;
  }
  return {
    text,
    leaves,
    bytes: Buffer.byteLength(text),
    ...(setRef === undefined ? {} : { setRef }),
    ...(digest === undefined ? {} : { digest }),
    ...(flow === undefined ? {} : { flow }),
    recent,
  };
}
