/**
 * `provenant policy validate [FILE]` and
 * `provenant policy check [--config F] --data '<json>' --to <path|uri> [--json]`:
 * test a policy without running anything (no I/O beyond reading the config).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import type { ProvenantConfig } from '../config/types.js';
import { LabelSchema, type Labels, type PublicLabels } from '../provenance/labels.js';
import { ProvenanceSets, type LabelOrigins, type ProvenanceSet } from '../provenance/provenance-set.js';
import { ResourceRegistry, type Resource } from '../provenance/resource.js';
import { compilePolicy } from '../policy/compile.js';
import { compileMonitors } from '../monitor/compile.js';
import type { CompiledPolicy, Decision } from '../policy/types.js';
import type { CliCommand } from './command.js';
import { parsePositiveInt, stateDirs, UsageError, withUsage } from './journal-args.js';
import type { JournalRecord } from '../journal/format.js';
import { findLog, listLogs, readRecord } from '../journal/logs.js';
import { readPolicy } from '../journal/policies.js';
import { configFromSource } from '../policy/policy-source.js';

const USAGE = `Usage: provenant policy validate [FILE]
       provenant policy check [--config FILE] --data '<json>' --to <path|uri> [--json]
       provenant policy check --at <log>:<seq> [--state DIR] [--json]

validate  Check a config file (default $PROVENANT_CONFIG, else ./provenant.yaml).
          Exit 0 when valid, 78 with the file, line, column and problem when not.
check     The decision for data flowing to a destination, with the rule and reason.
          --data   JSON with any of: confidentiality, integrity, tags, locations, sources
                   (sources are paths, relative to the current folder, or URIs; their labels
                   come from the config and join with the labels given)
          --to     destination path (relative to the current folder) or URI
          --location LOC   the location a service:// destination signed
          --json   print {"decision","rule","reason"}
          Exit 0 for allow, 1 for deny or violation, 64 for bad arguments, 78 for a bad config.
          --at LOG:SEQ   replay a recorded decision: the record's data and destination against
                   the policy it names (kept by digest in <state>/policies/). Prints both;
                   exit 0 when the replay gives the recorded decision and rule, 1 when not.
                   LOG is a log origin, a segment file or its prefix.`;

/** Sysexits EX_CONFIG, as at preload. */
const EXIT_CONFIG = 78;
const DATA_KEYS = ['confidentiality', 'integrity', 'tags', 'locations', 'sources'] as const;
/** The origin a denial names for labels given on the command line. */
const CLI_ORIGIN = '--data';
/** The origin a replayed denial names for labels the record has that its sources do not explain. */
const RECORD_ORIGIN = 'the recorded labels';

export const policy: CliCommand = {
  summary: 'validate a config file, or check a flow against it',
  run: (args) =>
    withUsage(USAGE, () => {
      const [sub, ...rest] = args;
      if (sub === undefined || sub === '--help' || sub === '-h') {
        process.stdout.write(USAGE + '\n');
        return sub === undefined ? 64 : 0;
      }
      try {
        if (sub === 'validate') return validate(rest);
        if (sub === 'check') return check(rest);
      } catch (error) {
        if (error instanceof ConfigError) {
          process.stderr.write(error.message + '\n');
          return EXIT_CONFIG;
        }
        throw error;
      }
      throw new UsageError(`unknown policy command "${sub}" (validate or check)`);
    }),
};

function validate(args: string[]): number {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  if (positionals.length > 1) throw new UsageError('validate takes at most one file');
  const file = positionals[0];
  const config = loadConfig(file === undefined ? {} : { file });
  // Compiling catches anything validation let through (it should be nothing).
  compilePolicy(config, new LabelSchema(config.levels.confidentiality, config.levels.integrity), 1);
  // Monitor rules: syntax, safety and stratification, each problem at its file:line:col.
  compileMonitors(config);
  process.stdout.write(summary(config) + '\n');
  return 0;
}

function check(args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      data: { type: 'string' },
      to: { type: 'string' },
      location: { type: 'string' },
      json: { type: 'boolean', default: false },
      at: { type: 'string' },
      state: { type: 'string', multiple: true },
    },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (values.at !== undefined) return replay(values.at, values.state, values.json);
  if (values.data === undefined || values.to === undefined) throw new UsageError('check needs --data and --to');
  const config = loadConfig(values.config === undefined ? {} : { file: values.config });
  const schema = new LabelSchema(config.levels.confidentiality, config.levels.integrity);
  const compiled = compilePolicy(config, schema, 1);
  const registry = new ResourceRegistry(config.node);
  const data = dataSet(values.data, schema, compiled, registry);
  const destination = destinationOf(values.to, values.location, registry);
  const decision = compiled.decide(data, destination);
  process.stdout.write((values.json ? JSON.stringify(asJson(decision)) : describe(decision, destination)) + '\n');
  return decision.kind === 'allow' ? 0 : 1;
}

/** `check --at`: the recorded flow decided again by the policy the record names. */
function replay(at: string, state: string[] | undefined, json: boolean): number {
  const colon = at.lastIndexOf(':');
  if (colon <= 0) throw new UsageError('--at takes <log>:<seq>');
  const seq = parsePositiveInt(at.slice(colon + 1), 'at', 1);
  const dirs = stateDirs(state);
  const log = findLog(listLogs(dirs), at.slice(0, colon));
  if (!log) throw new UsageError(`no log or segment "${at.slice(0, colon)}" in the journal`);
  const bytes = readRecord(log, seq);
  if (!bytes) throw new UsageError(`log ${log.header.log} has no record ${seq}`);
  const record = JSON.parse(bytes.toString('utf8')) as JournalRecord;
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

function dataSet(json: string, schema: LabelSchema, compiled: CompiledPolicy, registry: ResourceRegistry): ProvenanceSet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new UsageError(`--data is not JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError('--data must be a JSON object');
  const fields = parsed as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!(DATA_KEYS as readonly string[]).includes(key))
      throw new UsageError(`--data has unknown key "${key}" (known: ${DATA_KEYS.join(', ')})`);
  }
  const given: Partial<PublicLabels> = {};
  const confidentiality = optionalString(fields, 'confidentiality');
  if (confidentiality !== undefined) given.confidentiality = confidentiality;
  const integrity = optionalString(fields, 'integrity');
  if (integrity !== undefined) given.integrity = integrity;
  const tags = optionalStrings(fields, 'tags');
  if (tags !== undefined) given.tags = tags;
  const locations = optionalStrings(fields, 'locations');
  if (locations !== undefined) given.locations = locations;
  let labels: Labels;
  try {
    labels = schema.fromPublic(given, schema.neutral);
  } catch (error) {
    throw new UsageError(`--data: ${(error as Error).message}`);
  }
  const origins = originsOf(labels, CLI_ORIGIN, given.confidentiality !== undefined, given.integrity !== undefined);
  const sets = new ProvenanceSets(schema.neutral);
  let set = sets.of([], labels, origins);
  for (const source of optionalStrings(fields, 'sources') ?? []) {
    const resource = resourceOf(source, registry);
    set = sets.withSource(set, resource.uri, compiled.labelsOf(resource));
  }
  return set;
}

function originsOf(labels: Labels, origin: string, confidentiality: boolean, integrity: boolean): LabelOrigins {
  return {
    ...(confidentiality ? { confidentiality: origin } : {}),
    ...(integrity ? { integrity: origin } : {}),
    tags: Object.fromEntries(labels.tags.map((tag) => [tag, origin])),
    locations: Object.fromEntries(labels.locations.map((location) => [location, origin])),
  };
}

function destinationOf(to: string, location: string | undefined, registry: ResourceRegistry): Resource {
  const resource = resourceOf(to, registry);
  if (location === undefined) return resource;
  if (resource.kind !== 'service') throw new UsageError('--location applies only to a service:// destination');
  return registry.service(resource.service as string, location);
}

/** Paths resolve against the current folder; anything with a scheme is a URI. */
function resourceOf(pathOrUri: string, registry: ResourceRegistry): Resource {
  if (!pathOrUri.includes('://')) return registry.file(resolve(pathOrUri));
  try {
    return registry.parse(pathOrUri);
  } catch (error) {
    throw new UsageError(`cannot read "${pathOrUri}" as a path or URI (${(error as Error).message})`);
  }
}

function optionalString(fields: Record<string, unknown>, key: string): string | undefined {
  const value = fields[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new UsageError(`--data: ${key} must be a string`);
  return value;
}

function optionalStrings(fields: Record<string, unknown>, key: string): string[] | undefined {
  const value = fields[key];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string'))
    throw new UsageError(`--data: ${key} must be a list of strings`);
  return value;
}

function asJson(decision: Decision): { decision: string; rule: string | null; reason: string | null } {
  return { decision: decision.kind, rule: decision.rule ?? null, reason: decision.reason ?? null };
}

function describe(decision: Decision, destination: Resource): string {
  if (decision.kind === 'allow') {
    return decision.rule === undefined
      ? `allow: flow to ${destination.uri}`
      : `allow (rule ${decision.rule}, an explicit exception): flow to ${destination.uri}`;
  }
  return `${decision.kind} (rule ${decision.rule}): ${decision.reason}`;
}

function summary(config: ProvenantConfig): string {
  const count = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;
  return [
    `valid: ${config.file ?? 'no config file; built-in defaults'}`,
    `  mode ${config.mode}, node ${config.node}${config.location ? `, location ${config.location}` : ''}`,
    `  confidentiality ${config.levels.confidentiality.join(' < ')}; integrity ${config.levels.integrity.join(' < ')}`,
    `  defaults ${config.defaults.confidentiality}/${config.defaults.integrity}; ${count(config.resources.length, 'resource entry', 'resource entries')}, ${count(config.rules.length, 'rule', 'rules')}, ${count(config.revoked.length, 'revoked resource', 'revoked resources')}`,
    `  ${count(config.monitors.length, 'monitor', 'monitors')}, ${count(config.attest.length, 'attest entry', 'attest entries')}, ${count(config.trust.identities.length, 'trusted identity', 'trusted identities')}`,
  ].join('\n');
}
