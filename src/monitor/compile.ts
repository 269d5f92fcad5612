/**
 * The config's `monitors:` and `attest:` entries compiled: each rule parsed and analysed, each
 * attested fact's arguments resolved against its route. A problem inside the text is a
 * ConfigError at its own line and column, so `provenant policy validate` and the preload (exit
 * 78) report it like any other config error.
 */
import { errorInText } from '../config/errors.js';
import type { AttestSpec, MonitorMode, MonitorSpec, ProvenantConfig } from '../config/types.js';
import { analyseProgram, type AnalysedProgram } from './analyse.js';
import { parseProgram } from './parse.js';
import { Route } from './routes.js';
import { attestedRelation, formatAtom, RuleError, type Effect } from './syntax.js';

const ATTESTED_PREFIX = attestedRelation('');

export interface CompiledMonitor {
  readonly id: string;
  readonly route: Route;
  readonly mode: MonitorMode;
  readonly fetchEvidence: boolean;
  readonly program: AnalysedProgram;
  /** The rule text, journaled with each verdict so an auditor can re-derive it. */
  readonly source: string;
  readonly effect: Effect;
  /** The action's relation, e.g. `launch`. */
  readonly action: string;
  /** Route parameter bound to each argument of the action, in order. */
  readonly actionArgs: readonly string[];
  /** Names of the facts the rule reads (attested or bare): the only ones it is evaluated over. */
  readonly factNames: ReadonlySet<string>;
}

/** One argument of an attested fact: a route parameter, a JSON body field or a constant. */
export type FactArg =
  | { readonly from: 'param'; readonly name: string }
  | { readonly from: 'body'; readonly path: readonly string[] }
  | { readonly from: 'const'; readonly value: string };

export interface CompiledAttestation {
  readonly route: Route;
  readonly when: 'request' | 'response';
  readonly status: string;
  readonly name: string;
  readonly args: readonly FactArg[];
  /** Whether the request body must be kept to fill the arguments. */
  readonly needsBody: boolean;
}

export interface CompiledMonitors {
  readonly monitors: readonly CompiledMonitor[];
  readonly attestations: readonly CompiledAttestation[];
}

export function compileMonitors(config: ProvenantConfig): CompiledMonitors {
  return {
    monitors: config.monitors.map((spec) => compileMonitor(spec, config.file)),
    attestations: config.attest.map((spec) => compileAttestation(spec, config.file)),
  };
}

/** A rule's program alone (for `provenant explain`, which reads rules from journal records). */
export function compileRule(source: string): AnalysedProgram {
  return analyseProgram(parseProgram(source));
}

function compileMonitor(spec: MonitorSpec, file: string | undefined): CompiledMonitor {
  const fail = (problem: string, offset: number): never => {
    throw errorInText(`monitors "${spec.id}": ${problem}`, file, spec.ruleAt, spec.rule, offset);
  };
  let program: AnalysedProgram;
  try {
    program = compileRule(spec.rule);
  } catch (error) {
    if (error instanceof RuleError) fail(error.problem, error.offset);
    throw error;
  }
  const route = new Route(spec.on);
  const actions = program.clauses.filter((clause) => clause.effect !== undefined);
  const first = actions[0];
  if (first === undefined)
    return fail('one clause must start with "permit" or "deny" and name the action, e.g. "permit launch(M) :- ..."', 0);
  for (const clause of actions) {
    if (clause.effect !== first.effect || clause.head.relation !== first.head.relation) {
      fail(
        `every "permit"/"deny" clause must name the same action (${first.effect} ${first.head.relation}); got ${clause.effect} ${clause.head.relation}`,
        clause.at,
      );
    }
  }
  if (program.clauses.some((clause) => clause.effect === undefined && clause.head.relation === first.head.relation)) {
    fail(`${first.head.relation} is the action: only "${first.effect}" clauses may conclude it`, first.at);
  }
  const actionArgs = first.head.args.map((term) => {
    if (term.kind !== 'var' || !route.parameters.includes(term.name)) {
      return fail(
        `each argument of the action ${formatAtom(first.head)} must be a parameter of the route ${spec.on.route} (${route.parameters.map((p) => ':' + p).join(', ') || 'it has none'})`,
        first.head.at,
      );
    }
    return term.name;
  });
  for (const clause of actions) {
    if (clause.head.args.some((term, i) => term.kind !== 'var' || term.name !== actionArgs[i]))
      fail(`every "${first.effect}" clause must have the head ${formatAtom(first.head)}`, clause.head.at);
  }
  return {
    id: spec.id,
    route,
    mode: spec.mode,
    fetchEvidence: spec.fetchEvidence,
    program,
    source: spec.rule,
    effect: first.effect as Effect,
    action: first.head.relation,
    actionArgs,
    factNames: factNamesOf(program),
  };
}

function compileAttestation(spec: AttestSpec, file: string | undefined): CompiledAttestation {
  const text = spec.fact;
  const fail = (problem: string, offset: number): never => {
    throw errorInText(`attest: ${problem}`, file, spec.factAt, text, offset);
  };
  const match = /^\s*([a-z][A-Za-z0-9_]*)\s*\((.*)\)\s*$/s.exec(text);
  if (match === null) return fail('fact must read name(arg, ...), e.g. booking_confirmed(id)', 0);
  const route = new Route(spec.on);
  const name = match[1];
  const inner = match[2];
  let offset = text.indexOf('(') + 1;
  const args: FactArg[] = [];
  for (const raw of inner.trim() === '' ? [] : inner.split(',')) {
    const arg = raw.trim();
    const at = offset + raw.indexOf(arg);
    offset += raw.length + 1;
    if (/^"[^"]*"$/.test(arg)) args.push({ from: 'const', value: arg.slice(1, -1) });
    else if (/^body(\.[A-Za-z0-9_-]+)+$/.test(arg)) {
      if (spec.when === 'request') fail(`${arg}: the body is not read yet when: request`, at);
      args.push({ from: 'body', path: arg.split('.').slice(1) });
    } else if (route.parameters.includes(arg)) args.push({ from: 'param', name: arg });
    else fail(`"${arg}" is neither a parameter of ${spec.on.route}, a body.<field> nor a "quoted" constant`, at);
  }
  return { route, when: spec.when, status: spec.status, name, args, needsBody: args.some((arg) => arg.from === 'body') };
}

/** Fact names a program reads: `attested(P, f(..))` and bare `f(..)` that no clause derives. */
function factNamesOf(program: AnalysedProgram): Set<string> {
  const names = new Set<string>();
  for (const clause of program.clauses) {
    for (const literal of clause.body) {
      if (literal.kind !== 'atom') continue;
      const relation = literal.atom.relation;
      if (relation.startsWith(ATTESTED_PREFIX)) names.add(relation.slice(ATTESTED_PREFIX.length));
      else if (!program.derived.has(relation)) names.add(relation);
    }
  }
  return names;
}
