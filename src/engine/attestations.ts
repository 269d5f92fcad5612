/**
 * Attestations and monitors in the engine: `provenant.attest()`, facts attested for an unmodified
 * app from its HTTP traffic (config `attest:`), evidence received with a request and sent with
 * its response, and the monitors' verdicts on actions (config `monitors:`): verify-then-trust
 * decides before the handler runs, trust-then-verify checks off the request path. Every fact and
 * every verdict is one FlowRecord (ops `attest` / `monitor`) to the journal, spans and subscribers.
 */
import { diag } from '@opentelemetry/api';
import type { Mode } from '../config/types.js';
import type { CompiledAttestation, CompiledMonitors } from '../monitor/compile.js';
import { decodeEvidence, encodeEvidence } from '../monitor/evidence.js';
import { factStatement, makeFact, type Fact, type FactBase, type FactSigner, type FactVerifier } from '../monitor/facts.js';
import { pathOf } from '../monitor/routes.js';
import { judge, type Verdict } from '../monitor/verdict.js';
import type { FlowContext, FlowContexts } from '../provenance/context.js';
import type { ResourceRegistry } from '../provenance/resource.js';
import { ALLOW } from '../policy/types.js';
import type { FlowRecorder } from './recorder.js';
import { concludeVerdict, type ActionState, type Refusal } from './monitor-verdicts.js';

export type { Refusal } from './monitor-verdicts.js';

/** Asks an attesting service's evidence endpoint for facts (provided by the runtime; it does the I/O). */
export type EvidenceFetcher = (origin: string, principal: string, name: string) => Promise<string | undefined>;

export interface AttestationParts {
  service: string;
  compiled: CompiledMonitors;
  facts: FactBase;
  signer?: FactSigner | undefined;
  verifier?: FactVerifier | undefined;
  /** Evidence endpoints by principal (trust.identities[].evidence). */
  evidenceOrigins: ReadonlyMap<string, string>;
  fetchEvidence?: EvidenceFetcher | undefined;
  recorder: FlowRecorder;
  contexts: FlowContexts;
  resources: ResourceRegistry;
  mode: () => Mode;
  clock: () => number;
}

/** One incoming request, as the monitors see it. */
export interface RequestAction {
  readonly method: string;
  readonly path: string;
  /** Whether an `attest:` entry for this request reads its JSON body. */
  readonly needsBody: boolean;
}

export class Attestations {
  private readonly contextFacts = new WeakMap<FlowContext, Fact[]>();

  constructor(private readonly parts: AttestationParts) {}

  /** Whether any monitor, attestation or evidence handling applies (when not, requests skip this part). */
  get active(): boolean {
    const { compiled, verifier } = this.parts;
    return compiled.monitors.length > 0 || compiled.attestations.length > 0 || verifier !== undefined;
  }

  /** `provenant.attest(name, args)`: a signed fact this service vouches for. */
  attest(name: string, args: readonly string[]): Fact {
    const fact = makeFact(this.parts.service, name, args, this.parts.clock(), this.parts.signer);
    this.accept(fact, this.parts.contexts.current());
    this.parts.recorder.record({
      ctx: this.parts.contexts.current(),
      span: 'provenant.attest',
      op: 'attest',
      resource: this.parts.resources.process(process.pid),
      data: this.parts.contexts.current().provenance,
      decision: ALLOW,
      options: { attributes: { 'provenant.fact': factStatement(fact), 'provenant.fact.id': fact.id } },
      links: [],
      action: fact.name,
      claims: { fact },
    });
    return fact;
  }

  /** A request arrives (in its own context): verified evidence joins the fact base, request-time facts are attested. */
  arrive(method: string, target: string | undefined, evidence: string | undefined): RequestAction {
    const ctx = this.parts.contexts.current();
    // Most requests carry none: nothing to decode.
    if (evidence !== undefined) this.receive(evidence, ctx);
    const path = pathOf(target);
    const attestations = this.parts.compiled.attestations;
    const action: ActionState = {
      method,
      path,
      ctx,
      time: this.parts.clock(),
      needsBody:
        attestations.length > 0 &&
        attestations.some((a) => a.when === 'response' && a.needsBody && a.route.match(method, path) !== undefined),
    };
    for (const attestation of this.parts.compiled.attestations)
      if (attestation.when === 'request') this.attestFrom(attestation, action, undefined);
    return action;
  }

  /**
   * verify-then-trust: undefined to run the handler, a refusal to send instead (handler not run),
   * or a promise when missing evidence is being fetched. trust-then-verify checks are scheduled.
   */
  admit(request: RequestAction): Refusal | undefined | Promise<Refusal | undefined> {
    const action = request as ActionState;
    let pending: Promise<Refusal | undefined> | undefined;
    let refusal: Refusal | undefined;
    for (const monitor of this.parts.compiled.monitors) {
      const params = monitor.route.match(action.method, action.path);
      if (params === undefined) continue;
      if (monitor.mode === 'trust-then-verify') {
        // Off the request path: the facts known when the check runs (the next turn of the event loop).
        setImmediate(() => concludeVerdict(this.parts, monitor, action, judge(monitor, params, this.parts.facts, action.time)));
        continue;
      }
      const verdict = judge(monitor, params, this.parts.facts, action.time);
      if (verdict.outcome === 'deny' && monitor.fetchEvidence && verdict.missing && this.parts.fetchEvidence) {
        const retry = this.fetchMissing(verdict).then(() =>
          concludeVerdict(this.parts, monitor, action, judge(monitor, params, this.parts.facts, action.time)),
        );
        pending = pending === undefined ? retry : pending.then((first) => retry.then((second) => first ?? second));
        continue;
      }
      refusal ??= concludeVerdict(this.parts, monitor, action, verdict);
    }
    if (pending === undefined) return refusal;
    return pending.then((later) => refusal ?? later);
  }

  /** The response's status is known: response-time facts are attested; returns the evidence header for the caller. */
  respond(request: RequestAction, status: number, body: () => unknown): string | undefined {
    const action = request as ActionState;
    for (const attestation of this.parts.compiled.attestations) {
      if (attestation.when === 'response' && statusMatches(attestation.status, status)) this.attestFrom(attestation, action, body);
    }
    const facts = this.contextFacts.get(action.ctx);
    return facts === undefined ? undefined : encodeEvidence(facts);
  }

  /** The evidence header for a request from the current context. */
  outgoing(): string | undefined {
    const facts = this.contextFacts.get(this.parts.contexts.current());
    return facts === undefined ? undefined : encodeEvidence(facts);
  }

  /** Evidence returned in a response joins the calling context. */
  returned(ctx: FlowContext, evidence: string | undefined): void {
    if (evidence === undefined) return;
    const received = decodeEvidence(evidence, this.parts.verifier, this.parts.clock());
    for (const fact of received.facts) this.accept(fact, ctx);
  }

  /** The evidence endpoint's answer: facts this service attested under `name`. */
  ownFacts(name: string): string | undefined {
    return encodeEvidence(this.parts.facts.attestedBy(this.parts.service, name));
  }

  private receive(evidence: string, ctx: FlowContext): void {
    const received = decodeEvidence(evidence, this.parts.verifier, this.parts.clock());
    for (const fact of received.facts) this.accept(fact, ctx);
    if (received.rejected > 0)
      diag.warn(
        `provenant: ${received.rejected} evidence fact(s) from a request were not accepted (unsigned, unknown signer or bad signature)`,
      );
  }

  private accept(fact: Fact, ctx: FlowContext): void {
    this.parts.facts.add(fact);
    const facts = this.contextFacts.get(ctx);
    if (facts === undefined) this.contextFacts.set(ctx, [fact]);
    else if (!facts.some((known) => known.id === fact.id)) facts.push(fact);
  }

  private attestFrom(attestation: CompiledAttestation, action: ActionState, body: (() => unknown) | undefined): void {
    const params = attestation.route.match(action.method, action.path);
    if (params === undefined) return;
    const args: string[] = [];
    for (const arg of attestation.args) {
      const value = arg.from === 'param' ? params[arg.name] : arg.from === 'const' ? arg.value : field(body?.(), arg.path);
      if (value === undefined) {
        diag.warn(
          `provenant: attest ${attestation.name} for ${action.method} ${action.path}: ${arg.from === 'body' ? `body.${arg.path.join('.')}` : 'an argument'} is missing; nothing attested`,
        );
        return;
      }
      args.push(value);
    }
    this.parts.contexts.runWith(action.ctx, () => this.attest(attestation.name, args));
  }

  private async fetchMissing(verdict: Verdict): Promise<void> {
    const missing = /^attested\(([a-z][A-Za-z0-9_-]*), ([a-z][A-Za-z0-9_]*)\(/.exec(verdict.missing?.premise ?? '');
    const fetch = this.parts.fetchEvidence;
    if (missing === null || fetch === undefined) return;
    const [, principal, name] = missing as unknown as [string, string, string];
    const origin = this.parts.evidenceOrigins.get(principal);
    if (origin === undefined) return;
    try {
      const received = decodeEvidence(await fetch(origin, principal, name), this.parts.verifier, this.parts.clock());
      // Only the principal's own statements count from its endpoint.
      for (const fact of received.facts) if (fact.principal === principal) this.parts.facts.add(fact);
    } catch (error) {
      diag.warn(`provenant: fetching evidence ${principal}/${name} from ${origin} failed`, error);
    }
  }
}

function statusMatches(pattern: string, status: number): boolean {
  return pattern.endsWith('xx') ? Math.floor(status / 100) === Number(pattern[0]) : Number(pattern) === status;
}

/** A string or number field of a parsed JSON body, by path. */
function field(body: unknown, path: readonly string[]): string | undefined {
  let value = body;
  for (const key of path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}
