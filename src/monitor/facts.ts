/**
 * Facts: "principal P attests f(args) at time T", signed by P. The fact base of a process holds
 * what it attested itself and every fact whose signature it verified (from evidence headers or an
 * evidence endpoint); monitors reason over it. A fact's id is the SHA-256 of its signed payload,
 * so an id names exactly one statement and a journal record can cite it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { attestedRelation } from './syntax.js';
import { Model, type InputTuple } from './model.js';

export interface FactSignature {
  /** `ed25519` (the principal's identity key) or `hmac-sha256` (the shared-key fallback). */
  readonly alg: 'ed25519' | 'hmac-sha256';
  readonly keyId: string;
  /** base64url. */
  readonly value: string;
}

export interface Fact {
  readonly id: string;
  readonly principal: string;
  readonly name: string;
  readonly args: readonly string[];
  /** Milliseconds since the epoch, by the principal's clock. */
  readonly time: number;
  /** Makes two attestations of the same statement at the same millisecond distinct. */
  readonly nonce: string;
  readonly signature?: FactSignature;
}

/** Signs facts as this service (implemented with its identity key in src/propagation/identity.ts). */
export interface FactSigner {
  sign(payload: string): FactSignature | undefined;
}

/** Checks a fact's signature against the trust bundle. */
export interface FactVerifier {
  verify(principal: string, payload: string, signature: FactSignature): boolean;
}

/** The exact text a fact's signature covers. */
export function factPayload(fact: Pick<Fact, 'principal' | 'name' | 'args' | 'time' | 'nonce'>): string {
  return JSON.stringify(['provenant-fact/1', fact.principal, fact.name, fact.args, fact.time, fact.nonce]);
}

export function factId(payload: string): string {
  return createHash('sha256').update(payload).digest('hex').slice(0, 32);
}

export function makeFact(principal: string, name: string, args: readonly string[], time: number, signer: FactSigner | undefined): Fact {
  const unsigned = { principal, name, args: [...args], time, nonce: randomBytes(8).toString('hex') };
  const payload = factPayload(unsigned);
  const signature = signer?.sign(payload);
  return signature === undefined ? { ...unsigned, id: factId(payload) } : { ...unsigned, id: factId(payload), signature };
}

/** `attested(p, f(a, b))` as the rule language writes it. */
export function factStatement(fact: Pick<Fact, 'principal' | 'name' | 'args'>): string {
  return `attested(${fact.principal}, ${fact.name}(${fact.args.join(', ')}))`;
}

/** A fact is read both as `attested(P, f(args))` and, whoever attested it, as `f(args)`. */
export function tuplesOf(fact: Fact): InputTuple[] {
  return [
    { relation: attestedRelation(fact.name), values: [fact.principal, ...fact.args], time: fact.time, fact: fact.id },
    { relation: fact.name, values: fact.args, time: fact.time, fact: fact.id },
  ];
}

/** A bounded fact base: past `limit` facts, the oldest received is dropped first. */
export class FactBase {
  private readonly facts = new Map<string, Fact>();
  /** Facts by name, so a rule reads only the relations it names. */
  private readonly byName = new Map<string, Set<Fact>>();
  /** Every fact's tuples, indexed, kept up to date: monitors without helper rules join against it directly. */
  readonly tuples = new Model();

  constructor(private readonly limit = 100_000) {}

  add(fact: Fact): boolean {
    if (this.facts.has(fact.id)) return false;
    this.facts.set(fact.id, fact);
    let named = this.byName.get(fact.name);
    if (named === undefined) {
      named = new Set();
      this.byName.set(fact.name, named);
    }
    named.add(fact);
    for (const tuple of tuplesOf(fact)) this.tuples.add(tuple.relation, { values: tuple.values, time: tuple.time, fact: tuple.fact });
    if (this.facts.size > this.limit) {
      const oldest = this.facts.values().next().value as Fact;
      this.facts.delete(oldest.id);
      this.byName.get(oldest.name)?.delete(oldest);
      for (const tuple of tuplesOf(oldest)) this.tuples.remove(tuple.relation, tuple.values, tuple.fact);
    }
    return true;
  }

  /** Facts with any of these names. */
  named(names: Iterable<string>): Fact[] {
    const out: Fact[] = [];
    for (const name of names) for (const fact of this.byName.get(name) ?? []) out.push(fact);
    return out;
  }

  get(id: string): Fact | undefined {
    return this.facts.get(id);
  }

  /** Facts `principal` attested under `name`, newest first. */
  attestedBy(principal: string, name: string): Fact[] {
    return this.named([name])
      .filter((f) => f.principal === principal)
      .sort((a, b) => b.time - a.time);
  }
}
