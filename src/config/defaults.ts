/** Built-in defaults: what provenant does with no config file (record everything, built-in lattice only). */
import { hostname } from 'node:os';
import type { JournalConfig, ProvenantConfig } from './types.js';

export const DEFAULT_CONFIDENTIALITY_LEVELS = ['public', 'internal', 'confidential', 'secret'] as const;
export const DEFAULT_INTEGRITY_LEVELS = ['untrusted', 'low', 'high'] as const;

export const DEFAULT_JOURNAL: Readonly<JournalConfig> = Object.freeze({
  enabled: true,
  contentHash: 'none',
  pseudonymize: false,
  sync: 'batch',
  flushIntervalMs: 100,
  checkpointEvery: 1000,
  checkpointIntervalMs: 10_000,
  segmentMaxBytes: 64 * 1024 * 1024,
  repeatWindowMs: 1000,
  witnesses: [],
  witnessQuorum: 1,
});

export const DEFAULT_TRUST_MAX_AGE_SECONDS = 300;

/**
 * Default labels for resources no `resources` entry matches. With custom level lists that lack
 * the default names, the lowest level is used: unknown destinations are treated as the least
 * confidential, unknown sources as the least trustworthy.
 */
export function defaultLevels(levels: { confidentiality: readonly string[]; integrity: readonly string[] }): {
  confidentiality: string;
  integrity: string;
} {
  return {
    confidentiality: levels.confidentiality.includes('public') ? 'public' : levels.confidentiality[0],
    integrity: levels.integrity.includes('low') ? 'low' : levels.integrity[0],
  };
}

export function defaultConfig(baseDir: string, env: NodeJS.ProcessEnv, host: string = hostname()): ProvenantConfig {
  const levels = { confidentiality: [...DEFAULT_CONFIDENTIALITY_LEVELS], integrity: [...DEFAULT_INTEGRITY_LEVELS] };
  const config: ProvenantConfig = {
    baseDir,
    node: host,
    mode: 'enforce',
    granularity: 'request',
    inheritProcessContext: false,
    levels,
    defaults: defaultLevels(levels),
    resources: [],
    rules: [],
    revoked: [],
    trust: { peers: [], identities: [], audience: [], maxAgeSeconds: DEFAULT_TRUST_MAX_AGE_SECONDS },
    journal: { ...DEFAULT_JOURNAL, witnesses: [] },
    monitors: [],
    attest: [],
    api: { label: true, shutdown: true },
  };
  const service = env['OTEL_SERVICE_NAME'];
  if (service) config.service = service;
  return config;
}
