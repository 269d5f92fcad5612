/**
 * `provenant explain <segment>:<seq>`: re-derives a monitor's verdict from its journal record
 * alone (the rule text, the evaluation time and the signed facts it rests on), verifies each
 * fact's signature against the given identities, and prints the proof tree of what holds or the
 * missing premise of what does not.
 */
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import type { TrustedIdentity } from '../config/types.js';
import type { VerdictRecord } from '../engine/flow-record.js';
import { findRecord } from '../journal/decode.js';
import { type JournalRecord } from '../journal/format.js';
import { compileRule } from '../monitor/compile.js';
import { factId, factPayload, factStatement, type Fact } from '../monitor/facts.js';
import type { ProofNode } from '../monitor/proof.js';
import { RuleError, type Effect } from '../monitor/syntax.js';
import { judgeGoal, type Verdict } from '../monitor/verdict.js';
import { ServiceIdentity } from '../propagation/identity.js';
import type { CliCommand } from './command.js';
import { UsageError, withUsage, writeJson } from './journal-args.js';

const USAGE = `Usage: provenant explain <segment-file>:<seq> [--config FILE] [--identity SERVICE=PEM]... [--json]

Re-derives the verdict journaled as record <seq> of <segment-file> (a monitor record) from the
rule and the signed facts in the record, verifies each fact's signature, and prints the proof of
a permit (or of a deny clause that held) or the missing premise of a refusal.
  --config FILE           take peer keys from its trust.identities
  --identity SVC=PEM      a service's Ed25519 public key (PEM file; repeatable)
  --json                  {"seq","monitor","recorded","rederived","reason","proof","missing","facts":[...]}
HMAC-signed facts verify with $PROVENANT_KEY.
Exit 0 when the re-derived verdict matches the recorded one and every fact's signature verifies,
1 when not, 64 for bad arguments.`;

interface CheckedFact {
  readonly id: string;
  readonly statement: string;
  readonly time: string;
  readonly signer: string;
  readonly verified: boolean;
  readonly problem?: string;
}

export const explain: CliCommand = {
  summary: 'prove or refute a monitor verdict from the journal, checking every signature',
  run: (args) =>
    withUsage(USAGE, () => {
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: {
          config: { type: 'string' },
          identity: { type: 'string', multiple: true },
          json: { type: 'boolean', default: false },
          help: { type: 'boolean', short: 'h', default: false },
        },
      });
      if (values.help) {
        process.stdout.write(USAGE + '\n');
        return 0;
      }
      if (positionals.length !== 1) throw new UsageError('explain takes one <segment-file>:<seq>');
      const [file, seq] = target(positionals[0]);
      const record = recordAt(file, seq);
      const verdict = verdictOf(record);
      const identity = new ServiceIdentity({
        service: '',
        sharedKey: process.env['PROVENANT_KEY'],
        trusted: [
          ...(values.config ? loadConfig({ file: values.config }).trust.identities : []),
          ...(values.identity ?? []).map(identityArgument),
        ],
      });
      const facts = (record.evidence ?? []).map((fact) => checkFact(fact, identity));
      const verified = (record.evidence ?? []).filter((_, i) => facts[i]?.verified === true);
      let program;
      try {
        program = compileRule(verdict.program);
      } catch (error) {
        if (error instanceof RuleError) throw new UsageError(`record ${seq}: its rule does not parse (${error.problem})`);
        throw error;
      }
      const effect: Effect = verdict.effect;
      const rederived = judgeGoal(program, effect, verdict.monitor, verdict.goal, verified, verdict.at);
      const recorded = record.decision === 'allow' ? 'permit' : 'deny';
      const ok = rederived.outcome === recorded && facts.every((fact) => fact.verified);
      if (values.json) {
        writeJson({
          seq,
          monitor: verdict.monitor,
          recorded,
          rederived: rederived.outcome,
          reason: rederived.reason,
          proof: rederived.proof ?? null,
          missing: rederived.missing?.premise ?? null,
          facts,
        });
      } else process.stdout.write(describe(record, verdict, recorded, rederived, facts));
      return ok ? 0 : 1;
    }),
};

function target(text: string): [string, number] {
  const colon = text.lastIndexOf(':');
  const seq = Number(text.slice(colon + 1));
  if (colon <= 0 || !Number.isSafeInteger(seq) || seq < 0) throw new UsageError(`"${text}" is not <segment-file>:<seq>`);
  return [text.slice(0, colon), seq];
}

function recordAt(file: string, seq: number): JournalRecord {
  let found: JournalRecord | undefined;
  try {
    found = findRecord([file], seq);
  } catch (error) {
    throw new UsageError(`cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  if (found === undefined) throw new UsageError(`${file} has no record ${seq}`);
  return found;
}

/** The record's verdict, checked field by field: a journal line is input, not trusted shape. */
function verdictOf(record: JournalRecord): VerdictRecord {
  const v = record.verdict as Partial<VerdictRecord> | undefined;
  const goal = v?.goal;
  if (record.op !== 'monitor' || v === undefined) throw new UsageError(`record is a ${String(record.op)} record, not a monitor verdict`);
  if (
    typeof v.monitor !== 'string' ||
    typeof v.program !== 'string' ||
    typeof v.at !== 'number' ||
    (v.effect !== 'permit' && v.effect !== 'deny') ||
    typeof goal?.relation !== 'string' ||
    !Array.isArray(goal.values) ||
    !goal.values.every((value) => typeof value === 'string') ||
    (record.evidence !== undefined && !Array.isArray(record.evidence))
  ) {
    throw new UsageError("the record's verdict is malformed");
  }
  return v as VerdictRecord;
}

function identityArgument(text: string): TrustedIdentity {
  const equals = text.indexOf('=');
  if (equals <= 0) throw new UsageError(`--identity "${text}" is not SERVICE=PEM-FILE`);
  try {
    const pem = readFileSync(text.slice(equals + 1), 'utf8');
    return { service: text.slice(0, equals), publicKey: createPublicKey(pem).export({ type: 'spki', format: 'pem' }).toString() };
  } catch (error) {
    throw new UsageError(`--identity ${text}: not a readable public key (${(error as Error).message})`);
  }
}

function checkFact(fact: Fact, identity: ServiceIdentity): CheckedFact {
  const shaped =
    typeof fact === 'object' &&
    fact !== null &&
    typeof fact.principal === 'string' &&
    typeof fact.name === 'string' &&
    Array.isArray(fact.args) &&
    typeof fact.time === 'number' &&
    typeof fact.nonce === 'string';
  if (!shaped) return { id: '?', statement: '?', time: '?', signer: '?', verified: false, problem: 'malformed fact' };
  const payload = factPayload(fact);
  const base = {
    id: fact.id,
    statement: factStatement(fact),
    time: new Date(fact.time).toISOString(),
    signer: fact.signature ? `${fact.signature.alg} key ${fact.signature.keyId}` : 'unsigned',
  };
  if (factId(payload) !== fact.id) return { ...base, verified: false, problem: 'its id does not match its content' };
  if (fact.signature === undefined) return { ...base, verified: false, problem: 'unsigned' };
  return identity.verify(fact.principal, payload, fact.signature)
    ? { ...base, verified: true }
    : { ...base, verified: false, problem: `signature does not verify with ${fact.principal}'s key` };
}

function describe(
  record: JournalRecord,
  verdict: VerdictRecord,
  recorded: string,
  rederived: Verdict,
  facts: readonly CheckedFact[],
): string {
  const byId = new Map(facts.map((fact) => [fact.id, fact]));
  const lines = [
    `monitor ${verdict.monitor} (${verdict.mode}) on ${record.action ?? verdict.goal.relation} at ${new Date(verdict.at).toISOString()}`,
    `  rule: ${verdict.program.replace(/\s+/g, ' ').trim()}`,
    `  recorded: ${recorded} (${record.decision ?? '?'}); re-derived from the record's facts: ${rederived.outcome}${rederived.outcome === recorded ? ' ✔' : ' ✘ differs'}`,
  ];
  if (rederived.proof) lines.push('', 'proof:', ...tree(rederived.proof, byId, '  ', '  '));
  if (rederived.missing)
    lines.push('', `missing premise: ${rederived.missing.premise}${rederived.missing.detail ? ` (${rederived.missing.detail})` : ''}`);
  lines.push('', 'facts in the record:');
  if (facts.length === 0) lines.push('  (none)');
  for (const fact of facts)
    lines.push(
      `  ${fact.verified ? '✔' : '✘'} ${fact.statement}  ${fact.time}  ${fact.signer}  id ${fact.id}${fact.problem ? `: ${fact.problem}` : ''}`,
    );
  return lines.join('\n') + '\n';
}

function tree(node: ProofNode, facts: ReadonlyMap<string, CheckedFact>, prefix: string, childPrefix: string): string[] {
  const fact = node.fact === undefined ? undefined : facts.get(node.fact);
  const note = fact === undefined ? '' : `  [fact ${fact.id.slice(0, 12)}, ${fact.verified ? 'signature ✔' : `✘ ${fact.problem ?? ''}`}]`;
  const out = [`${prefix}${node.statement}${note}`];
  const count = node.premises.length + node.conditions.length;
  node.premises.forEach((premise, i) => {
    const last = i === count - 1;
    out.push(...tree(premise, facts, childPrefix + (last ? '└─ ' : '├─ '), childPrefix + (last ? '   ' : '│  ')));
  });
  node.conditions.forEach((condition, i) =>
    out.push(`${childPrefix}${node.premises.length + i === count - 1 ? '└─ ' : '├─ '}${condition}`),
  );
  return out;
}
