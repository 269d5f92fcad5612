/**
 * `provenant policy validate [FILE]` and
 * `provenant policy check [--config F] --data '<json>' --to <path|uri> [--json]`:
 * test a policy without running anything (no I/O beyond reading the config).
 */
import { parseArgs } from 'node:util';
import { ConfigError, EX_CONFIG } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import type { ProvenantConfig } from '../config/types.js';
import { compileMonitors } from '../monitor/compile.js';
import { compilePolicy } from '../policy/compile.js';
import { LabelSchema } from '../provenance/labels.js';
import { ResourceRegistry } from '../provenance/resource.js';
import type { CliCommand } from './command.js';
import { UsageError, withUsage } from './journal-args.js';
import { asJson, dataSet, describe, destinationOf } from './policy-flow.js';
import { replay } from './policy-replay.js';

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
          return EX_CONFIG;
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
