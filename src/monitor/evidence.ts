/**
 * Facts on the wire (the `provenant-evidence` header and the evidence endpoint's body): a
 * base64url JSON list of signed facts, bounded in count and size. Nothing received is trusted
 * as is: every fact's id is recomputed from its payload, and it is kept only if its signature
 * verifies against the principal's key in the trust bundle.
 */
import { factId, factPayload, type Fact, type FactSignature, type FactVerifier } from './facts.js';

export const EVIDENCE_HEADER = 'provenant-evidence';
/** Path provenant answers on every instrumented server with the facts this service attested. */
export const EVIDENCE_PATH = '/.well-known/provenant/facts';
const MAX_EVIDENCE_FACTS = 32;
export const MAX_EVIDENCE_BYTES = 8192;
/** A fact dated further ahead than this (clock skew) is not accepted. */
const MAX_FUTURE_MS = 5 * 60_000;

interface WireFact {
  p: string;
  n: string;
  a: string[];
  t: number;
  r: string;
  s: { alg: string; k: string; v: string };
}

function toWire(fact: Fact, signature: FactSignature): WireFact {
  return {
    p: fact.principal,
    n: fact.name,
    a: [...fact.args],
    t: fact.time,
    r: fact.nonce,
    s: { alg: signature.alg, k: signature.keyId, v: signature.value },
  };
}

/** The newest signed facts that fit the bounds, as a header value; undefined when there are none. */
export function encodeEvidence(facts: Iterable<Fact>): string | undefined {
  const newest = [...facts].filter((f) => f.signature !== undefined).sort((a, b) => b.time - a.time);
  const wire: WireFact[] = [];
  let bytes = 2;
  for (const fact of newest.slice(0, MAX_EVIDENCE_FACTS)) {
    const item = toWire(fact, fact.signature as FactSignature);
    const size = Math.ceil(((JSON.stringify(item).length + 1) * 4) / 3);
    if (bytes + size > MAX_EVIDENCE_BYTES) break;
    bytes += size;
    wire.push(item);
  }
  return wire.length === 0 ? undefined : Buffer.from(JSON.stringify(wire)).toString('base64url');
}

export interface ReceivedEvidence {
  readonly facts: readonly Fact[];
  /** Facts dropped: malformed, unsigned, signed by an unknown principal or with a bad signature. */
  readonly rejected: number;
}

/** Most requests carry no evidence: one answer for all of them. */
const NO_EVIDENCE: ReceivedEvidence = Object.freeze({ facts: Object.freeze([]), rejected: 0 });

export function decodeEvidence(value: string | undefined, verifier: FactVerifier | undefined, now: number): ReceivedEvidence {
  if (value === undefined || value === '') return NO_EVIDENCE;
  if (value.length > Math.ceil((MAX_EVIDENCE_BYTES * 4) / 3) + 4) return { facts: [], rejected: 1 };
  let items: unknown;
  try {
    items = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    return { facts: [], rejected: 1 };
  }
  if (!Array.isArray(items)) return { facts: [], rejected: 1 };
  const facts: Fact[] = [];
  let rejected = 0;
  for (const item of items.slice(0, MAX_EVIDENCE_FACTS)) {
    const fact = verifier === undefined ? undefined : fromWire(item, verifier, now);
    if (fact === undefined) rejected++;
    else facts.push(fact);
  }
  return { facts, rejected: rejected + Math.max(0, items.length - MAX_EVIDENCE_FACTS) };
}

function fromWire(item: unknown, verifier: FactVerifier, now: number): Fact | undefined {
  if (typeof item !== 'object' || item === null) return undefined;
  const w = item as Partial<Record<keyof WireFact, unknown>>;
  const s = w.s as Partial<Record<'alg' | 'k' | 'v', unknown>> | undefined;
  if (
    typeof w.p !== 'string' ||
    typeof w.n !== 'string' ||
    typeof w.r !== 'string' ||
    typeof w.t !== 'number' ||
    !Number.isSafeInteger(w.t)
  )
    return undefined;
  if (!Array.isArray(w.a) || !w.a.every((arg) => typeof arg === 'string')) return undefined;
  if (
    typeof s !== 'object' ||
    s === null ||
    (s.alg !== 'ed25519' && s.alg !== 'hmac-sha256') ||
    typeof s.k !== 'string' ||
    typeof s.v !== 'string'
  )
    return undefined;
  if (w.t > now + MAX_FUTURE_MS) return undefined;
  const unsigned = { principal: w.p, name: w.n, args: w.a, time: w.t, nonce: w.r };
  const payload = factPayload(unsigned);
  const signature: FactSignature = { alg: s.alg, keyId: s.k, value: s.v };
  if (!verifier.verify(unsigned.principal, payload, signature)) return undefined;
  return { ...unsigned, id: factId(payload), signature };
}
