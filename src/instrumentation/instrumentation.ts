/**
 * An instrumentation patches one family of built-in modules at preload. Like OpenTelemetry's
 * instrumentation classes it is enabled once with its configuration and can be disabled (tests,
 * shutdown); unlike them it can deny: it calls the engine before the original function.
 */
import type { ProvenantConfig } from '../config/types.js';
import type { FlowEngine } from '../engine/flow-engine.js';
import type { PublicLabels } from '../provenance/labels.js';
import type { TelemetryEnvironment } from './net/app-telemetry.js';
import type { GrpcTelemetry } from './net/grpc-telemetry.js';
import type { PeerProtocol } from './net/peer-protocol.js';
import type { StdioGate } from './stdio-gate.js';
import type { Transfers } from './transfers.js';

/**
 * The signed environment claim a Node child under provenant starts with (implemented by the
 * runtime over propagation's signing, so instrumentations never import propagation).
 */
export interface ChildClaims {
  /** The environment variable that carries the claim. */
  readonly variable: string;
  /**
   * The environment a Node child under provenant needs for data with these labels: the signed
   * claim, plus this process's config, mode, state dir and key (used where the app set none).
   * Undefined without a key: the child could not verify the claim.
   */
  environment(data: { labels: PublicLabels; sources: readonly string[] }): Readonly<Record<string, string>> | undefined;
}

/** What provenant protects from the app's own writes (rule `self-protection`); app reads under `dirs` are not flows. */
export interface ProtectedPaths {
  /** Absolute, symlinks resolved: the config file, key files. */
  readonly files: readonly string[];
  /** Absolute, symlinks resolved: the state dir. */
  readonly dirs: readonly string[];
}

/**
 * Journal logs of the threads this thread starts (workers, Node's module-hooks thread): a thread
 * that is terminated, or whose process exits, gets no exit event to close its own, so its
 * creator closes it. Implemented by the runtime over the journal.
 */
export interface ThreadLogs {
  /** What a new thread under provenant is handed for that; undefined when nothing is journaled. */
  handOver(): SharedArrayBuffer | undefined;
  /** The thread that was handed `handoff` has ended. */
  ended(handoff: SharedArrayBuffer): void;
}

export interface InstrumentationContext {
  engine: FlowEngine;
  config: ProvenantConfig;
  /** The config in force now, after reloads of the file (what a worker under provenant is handed). */
  currentConfig: () => ProvenantConfig;
  /** Service name this process runs as (resource attribute service.name). */
  service: string;
  /** Cross-service propagation (signed claims, trace context), as the network instrumentation uses it. */
  peers: PeerProtocol;
  protectedPaths: ProtectedPaths;
  childClaims: ChildClaims;
  /** Absolute path of provenant's preload module (a Node child loading it is under provenant). */
  registerModule: string;
  /** True when this process was started by an instrumented parent that reads its stdout/stderr. */
  childOfProvenant: boolean;
  /** The app's OTLP endpoints and metadata services as the environment named them at start (its exports are not flows). */
  telemetry: TelemetryEnvironment;
  /** The app's OTLP/gRPC exporter's connections to those endpoints (shared by net, http2 and dns). */
  grpcTelemetry: GrpcTelemetry;
  /** Writes to fd 1 and 2, whether through process.stdout/stderr or the fd-level fs API. */
  stdio: StdioGate;
  /** FileHandles and MessagePorts received from other threads (the fs and worker instrumentations adopt them). */
  transfers: Transfers;
  threadLogs: ThreadLogs;
}

export interface Instrumentation {
  readonly name: string;
  enable(context: InstrumentationContext): void;
  disable(): void;
}
