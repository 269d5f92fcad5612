/**
 * An instrumentation patches one family of built-in modules at preload. Like OpenTelemetry's
 * instrumentation classes it is enabled once with its configuration and can be disabled (tests,
 * shutdown); unlike them it can deny: it calls the engine before the original function.
 */
import type { ProvenantConfig } from '../config/types.js';
import type { FlowEngine } from '../engine/flow-engine.js';

export interface InstrumentationContext {
  engine: FlowEngine;
  config: ProvenantConfig;
  /** Absolute state dir; I/O under it is provenant's own and never recorded. */
  stateDir: string;
  /** Service name this process runs as (resource attribute service.name). */
  service: string;
  /** HMAC key for signing outgoing provenant baggage (PROVENANT_KEY), when set. */
  signingKey?: string | undefined;
}

export interface Instrumentation {
  readonly name: string;
  enable(context: InstrumentationContext): void;
  disable(): void;
}
