/**
 * `provenant policy check --at LOG:SEQ`: a recorded flow decided again by the policy the record
 * names (kept in the state dir by digest), to show an auditor the decision follows from the policy.
 */
import type { ProvenantConfig } from '../config/types.js';
import { findRecord } from '../journal/decode.js';
import { findLog, listLogs } from '../journal/logs.js';
import { readPolicy } from '../journal/policies.js';
import { compilePolicy } from '../policy/compile.js';
import { configFromSource } from '../policy/policy-source.js';
import { LabelSchema } from '../provenance/labels.js';
import { ProvenanceSets } from '../provenance/provenance-set.js';
import { ResourceRegistry } from '../provenance/resource.js';
import { parsePositiveInt, stateDirs, UsageError } from './journal-args.js';
import { asJson, describe, originsOf, resourceOf } from './policy-flow.js';

/** The origin a replayed denial names for labels the record has that its sources do not explain. */
const RECORD_ORIGIN = 'the recorded labels';

/** `check --at`: the recorded flow decided again by the policy the record names. */
export function replay(at: string, state: string[] | undefined, json: boolean): number {
  const colon = at.lastIndexOf(':');
  if (colon <= 0) throw new UsageError('--at takes <log>:<seq>');
  const seq = parsePositiveInt(at.slice(colon + 1), 'at', 1);
  const dirs = stateDirs(state);
  const log = findLog(listLogs(dirs), at.slice(0, colon));
  if (!log) throw new UsageError(`no log or segment "${at.slice(0, colon)}" in the journal`);
  const record = findRecord(
    log.segments.map((segment) => segment.path),
    seq,
  );
  if (!record) throw new UsageError(`log ${log.header.log} has no record ${seq}`);
  if (record.policy === undefined || record.decision === undefined) {
    process.stderr.write(`provenant: record ${seq} is not a decision (no policy digest and decision to replay)\n`);
    return 1;
  }
  let config: ProvenantConfig;
  try {
    config = configFromSource(readPolicy(dirs, record.policy));
  } catch (error) {
    process.stderr.write(`provenant: cannot replay: ${(error as Error).message}\n`);
    return 1;
  }
  const schema = new LabelSchema(config.levels.confidentiality, config.levels.integrity);
  const compiled = compilePolicy(config, schema, 1);
  const registry = new ResourceRegistry(config.node);
  // Sources first, so a reason names the source a label came from, as it did when recorded;
  // labels that arrived with the data (signed baggage) are in the record's labels.
  const sets = new ProvenanceSets(schema.neutral);
  let data = sets.of([], schema.neutral);
  for (const source of record.sources) {
    const resource = resourceOf(source, registry);
    data = sets.withSource(data, resource.uri, compiled.labelsOf(resource));
  }
  const recordedLabels = schema.fromPublic(record.labels, schema.neutral);
  data = sets.union(data, sets.of([], recordedLabels, originsOf(recordedLabels, RECORD_ORIGIN, true, true)));
  const destination = resourceOf(record.resource, registry);
  const decision = compiled.decide(data, destination);
  const same = decision.kind === record.decision && decision.rule === record.rule;
  const recorded = { decision: record.decision, rule: record.rule ?? null, reason: record.reason ?? null };
  if (json) {
    process.stdout.write(JSON.stringify({ policy: record.policy, recorded, replayed: asJson(decision), same }) + '\n');
  } else {
    process.stdout.write(
      [
        `record ${seq} of ${log.header.log}, policy ${record.policy}`,
        `recorded: ${recorded.decision}${recorded.rule ? ` by ${recorded.rule}` : ''}${recorded.reason ? `: ${recorded.reason}` : ''}`,
        `replayed: ${describe(decision, destination)}`,
        same ? 'same decision and rule' : 'DIFFERENT from the record',
      ].join('\n') + '\n',
    );
  }
  return same ? 0 : 1;
}
