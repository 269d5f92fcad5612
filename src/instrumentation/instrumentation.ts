/**
 * An instrumentation patches one family of built-in modules at preload. Like OpenTelemetry's
 * instrumentation classes it is enabled once with its configuration and can be disabled (tests,
 * shutdown); unlike them it can deny: it calls the engine before the original function.
 */
import type { ProvenantConfig } from '../config/types.js';
import type { FlowEngine } from '../engine/flow-engine.js';
import type { PeerProtocol } from './net/peer-protocol.js';

export interface InstrumentationContext {
  engine: FlowEngine;
  config: ProvenantConfig;
  /** Absolute state dir; I/O under it is provenant's own and never recorded. */
  stateDir: string;
  /** Service name this process runs as (resource attribute service.name). */
  service: string;
  /** Cross-service propagation (signed claims, trace context), as the network instrumentation uses it. */
  peers: PeerProtocol;
}

export interface Instrumentation {
  readonly name: string;
  enable(context: InstrumentationContext): void;
  disable(): void;
}
