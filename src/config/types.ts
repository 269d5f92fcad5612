/**
 * The validated, normalised configuration every other layer consumes. The YAML loader
 * (src/config/load.ts) is the only producer; nothing downstream sees raw YAML.
 */

/** Kinds of resource a `resources:` entry can match (the URI schemes provenant names resources by). */
export type ResourceKind = 'file' | 'tcp' | 'http' | 'https' | 'service' | 'process';

/** The URI of a file: `file://<node>/<absolute path>` (a contract name). */
export function fileUri(node: string, absolutePath: string): string {
  return `file://${node}${absolutePath}`;
}

/** Modes, in one list the loader and validator both check against. */
export const MODES = ['enforce', 'audit', 'off'] as const;
export type Mode = (typeof MODES)[number];
export type Granularity = 'request' | 'process';
export type ContentHashAlgorithm = 'sha256' | 'sha3-256' | 'sha512' | 'blake2b512' | 'none';

/** Labels as written in the config: level names, not indices. */
export interface LabelSpec {
  confidentiality?: string;
  integrity?: string;
  tags?: string[];
  location?: string;
}

/** The standard streams a process writes to, resources `process://<node>/stdout` and `/stderr`. */
export const STDIO_STREAMS = ['stdout', 'stderr'] as const;
export type StdioStream = (typeof STDIO_STREAMS)[number];

/** First match wins. `path` is an absolute glob (resolved against the config file's folder). */
export interface ResourceMatch {
  path?: string;
  host?: string;
  port?: number;
  url?: string;
  service?: string;
  /** Glob over the basename of a child process's executable (`convert`, `sh`, `node`). */
  command?: string;
  /** This process's stdout or stderr. */
  stdio?: StdioStream;
}

export interface ResourceLabelRule {
  match: ResourceMatch;
  labels: LabelSpec;
  /** 1-based line in the config file, for explanations. */
  line?: number;
}

export interface LevelCondition {
  atLeast?: string;
  atMost?: string;
}

export interface TagCondition {
  any?: string[];
  all?: string[];
}

export interface SetCondition {
  in?: string[];
  notIn?: string[];
}

export interface DataCondition {
  confidentiality?: LevelCondition;
  integrity?: LevelCondition;
  tags?: TagCondition;
  /** Globs over source URIs (paths are resolved to file URIs by the loader). */
  sources?: string[];
  locations?: SetCondition;
}

export interface DestinationCondition {
  kind?: ResourceKind[];
  path?: string;
  host?: string;
  port?: number;
  service?: string;
  command?: string;
  location?: SetCondition;
  labels?: {
    confidentiality?: LevelCondition;
    integrity?: LevelCondition;
    tags?: TagCondition;
  };
}

export interface PolicyRuleSpec {
  id: string;
  effect: 'deny' | 'allow';
  data?: DataCondition;
  destination?: DestinationCondition;
  message?: string;
  line?: number;
}

export interface TrustConfig {
  /** Host globs (or IPs) that may receive and send provenant baggage. */
  peers: string[];
  /** Incoming signed baggage older than this is not trusted. */
  maxAgeSeconds: number;
}

export interface JournalConfig {
  enabled: boolean;
  contentHash: ContentHashAlgorithm;
  /** When set, enduser.id is replaced by HMAC-SHA256(key, id). */
  pseudonymize: boolean;
  /** `always` fsyncs before the flow proceeds; `batch` flushes at most every flushIntervalMs. */
  sync: 'always' | 'batch';
  flushIntervalMs: number;
  checkpointEvery: number;
  checkpointIntervalMs: number;
  segmentMaxBytes: number;
  /**
   * Identical flows (same op, resource, provenance, decision, user) from different contexts within
   * this window get one span and record; the repeats are counted in a summary record. 0 = every
   * context gets its own span and record.
   */
  repeatWindowMs: number;
  /** C2SP tlog-witness servers the process submits its checkpoints to, in the background. */
  witnesses: WitnessConfig[];
  /** How many witnesses must cosign a checkpoint for it to count as witnessed (`verify --config`). */
  witnessQuorum: number;
}

export interface WitnessConfig {
  /** Submission prefix: `add-checkpoint` is POSTed to `<url>/add-checkpoint`. */
  url: string;
  /** The witness's cosignature verifier key (`name+keyid+base64(0x04 ‖ key)`). */
  vkey: string;
}

/**
 * Which parts of the public API app code may call. Both weaken enforcement when called by the app
 * (a `label()` can relabel a destination public; `shutdown()` removes every patch), so hardened
 * deployments switch them off.
 */
export interface ApiConfig {
  label: boolean;
  shutdown: boolean;
}

export interface ProvenantConfig {
  /** Absolute path of the YAML file, when one was loaded. */
  file?: string;
  /** Folder relative paths in the config are resolved against. */
  baseDir: string;
  service?: string;
  node: string;
  location?: string;
  mode: Mode;
  granularity: Granularity;
  inheritProcessContext: boolean;
  levels: { confidentiality: string[]; integrity: string[] };
  defaults: { confidentiality: string; integrity: string };
  resources: ResourceLabelRule[];
  rules: PolicyRuleSpec[];
  /** Absolute file paths or URIs. */
  revoked: string[];
  trust: TrustConfig;
  journal: JournalConfig;
  api: ApiConfig;
}
