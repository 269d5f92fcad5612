/**
 * The validated, normalised configuration every other layer consumes. The YAML loader
 * (src/config/load.ts) is the only producer; nothing downstream sees raw YAML.
 */

/** Kinds of resource a `resources:` entry can match (the URI schemes provenant names resources by). */
export type ResourceKind = 'file' | 'tcp' | 'udp' | 'unix' | 'http' | 'https' | 'service' | 'process';

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

/** Processes named by their role for this one rather than by pid: `parent`, the process that forked it. */
export const PROCESS_ROLES = ['parent'] as const;
export type ProcessRole = (typeof PROCESS_ROLES)[number];

/** First match wins. `path` is an absolute glob (resolved against the config file's folder) over files and unix sockets. */
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
  /** A process by its role: `parent`, the end of a forked child's IPC channel (its pid changes every run). */
  process?: ProcessRole;
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

/** A peer service's Ed25519 identity: the key its claims and attested facts are signed with. */
export interface TrustedIdentity {
  service: string;
  /** SPKI PEM of the Ed25519 public key (the config's `publicKey` file or text, or its `vkey`). */
  publicKey: string;
  /** Origin (`http://host:port`) of the service whose evidence endpoint a monitor may ask for missing facts. */
  evidence?: string;
  /** `h2c`: the (http:) evidence endpoint speaks only cleartext HTTP/2, asked with prior knowledge. https: negotiates by ALPN. */
  evidenceProtocol?: 'h2c';
}

export interface TrustConfig {
  /** Host globs (or IPs) that may receive and send provenant baggage. */
  peers: string[];
  /** Peer identities, by service name. */
  identities: TrustedIdentity[];
  /** Names (`host` or `host:port`) peers reach this service by, besides its own address: request claims must be addressed to one. */
  audience: string[];
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
  /** Where OpenLineage run events built from the journal are sent (at each checkpoint, from a worker); undefined: nowhere. */
  openlineage?: OpenLineageConfig | undefined;
  /** How much of the journal dir is kept (whole closed segments are deleted, oldest first); absent: everything. */
  retention?: RetentionConfig | undefined;
}

export interface RetentionConfig {
  /** Bound on the total size of the segments in `<state>/journal/`; null: no bound. */
  maxBytes: number | null;
  /** Segments last written longer ago than this are deleted; null: no age limit. */
  maxAgeSeconds: number | null;
}

export interface OpenLineageConfig {
  /** The endpoint events are POSTed to; a URL with no path gets OpenLineage's `/api/v1/lineage` (Marquez). */
  url: string;
  /** The jobs' namespace (OpenLineage leaves it to the producer's config). */
  namespace: string;
}

export interface WitnessConfig {
  /** Submission prefix: `add-checkpoint` is POSTed to `<url>/add-checkpoint`. */
  url: string;
  /** The witness's cosignature verifier key (`name+keyid+base64(0x04 ‖ key)`). */
  vkey: string;
}

/** Where a text value starts in the config file, so problems inside it get a line and column. */
export interface TextPosition {
  line: number;
  column: number;
  /** A block scalar (`|`): each line of the text starts at `column` of the next file line. */
  block: boolean;
}

/** An HTTP request a monitor or an attestation applies to: method and route (`/missions/:M/launch`). */
export interface RouteSpec {
  /** Upper-case method, or `*` for any. */
  method: string;
  route: string;
}

export const MONITOR_MODES = ['verify-then-trust', 'trust-then-verify'] as const;
export type MonitorMode = (typeof MONITOR_MODES)[number];

export interface MonitorSpec {
  id: string;
  on: RouteSpec;
  mode: MonitorMode;
  /** Rule language text; one clause carries `permit` or `deny` and names the action. */
  rule: string;
  ruleAt: TextPosition;
  /** Ask attesting services' evidence endpoints (trust.identities[].evidence) for missing facts. */
  fetchEvidence: boolean;
  line: number;
}

/** A fact provenant attests for an unmodified app when it sees a matching request. */
export interface AttestSpec {
  on: RouteSpec;
  /** `response`: when the response status matches `status`; `request`: when the request arrives. */
  when: 'request' | 'response';
  /** Status class (`2xx`) or exact status the response must have. */
  status: string;
  /** `name(arg, ...)`; an arg is a route parameter, `body.<field>` or a "quoted" constant. */
  fact: string;
  factAt: TextPosition;
  line: number;
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
  monitors: MonitorSpec[];
  attest: AttestSpec[];
  api: ApiConfig;
}
