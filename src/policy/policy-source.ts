/**
 * The text a compiled policy is made from, in a canonical form: the normalised config fields that
 * decide a flow (node, location, mode, levels, defaults, resources — run-time labels included —,
 * rules, revoked). Its SHA-256 is the policy digest each journal record carries, and the text is
 * what `provenant policy check --at` compiles again to replay a recorded decision.
 */
import { hash } from 'node:crypto';
import { defaultConfig } from '../config/defaults.js';
import type { ProvenantConfig } from '../config/types.js';

const FIELDS = ['node', 'location', 'mode', 'levels', 'defaults', 'resources', 'rules', 'revoked'] as const;

export function policySource(config: ProvenantConfig): string {
  return JSON.stringify(Object.fromEntries(FIELDS.map((field) => [field, config[field] ?? null])));
}

export function policyDigest(source: string): string {
  return `sha256:${hash('sha256', source, 'hex')}`;
}

/** The config a stored source describes; the caller checks the source against its digest first. */
export function configFromSource(source: string): ProvenantConfig {
  const fields = JSON.parse(source) as Partial<Record<(typeof FIELDS)[number], unknown>>;
  const config = defaultConfig('/', {});
  for (const field of FIELDS) if (fields[field] !== null && fields[field] !== undefined) Object.assign(config, { [field]: fields[field] });
  return config;
}
