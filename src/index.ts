/**
 * Public API (`import * as provenant from 'provenant'`). Everything here works with or without
 * the preload: before provenant is started, `run` just runs the function and `current` reports
 * no provenance, so an app can keep its calls when provenant is switched off.
 */
import { diag } from '@opentelemetry/api';
import type { ApplicationEvent } from './engine/application-events.js';
import type { FlowListener, FlowRecord } from './engine/flow-record.js';
import type { LabelSpec } from './config/types.js';
import type { Fact } from './monitor/facts.js';
import type { PublicLabels } from './provenance/labels.js';
import { activeRuntime, start as startRuntime, type StartOptions } from './runtime/runtime.js';

export { ProvenanceDeniedError, isProvenanceDenied, ERR_PROVENANCE_DENIED } from './errors.js';
export type { FlowListener, FlowOp, FlowRecord } from './engine/flow-record.js';
export type { ApplicationEvent } from './engine/application-events.js';
/** The former name of `FlowRecord`, kept so code written against 0.1 still compiles. */
export type FlowEvent = FlowRecord;
export type { PublicLabels } from './provenance/labels.js';
export type { StartOptions } from './runtime/runtime.js';
export { ProvenantInstrumentation, type ProvenantInstrumentationConfig } from './runtime/otel-instrumentation.js';
export type { LabelSpec } from './config/types.js';
export type { Fact, FactSignature } from './monitor/facts.js';
export type { VerdictRecord } from './engine/flow-record.js';

/** The provenance of the active flow context. */
export interface CurrentProvenance {
  /** Source URIs the context's data derives from. */
  sources: string[];
  labels: PublicLabels;
  /** `request`, `run` or `process`. */
  context: string;
}

export interface RunOptions {
  /** End user this work is done for (recorded as `enduser.id`). */
  user?: string;
}

/** Start provenant in this process (the preload calls this). Idempotent. */
export function start(options?: StartOptions): void {
  startRuntime(options);
}

/**
 * Flush the journal and spans and remove every patch. With config `api.shutdown: false` (hardened
 * deployments) it rejects with a ProvenanceDeniedError (rule `self-protection`) and changes nothing.
 */
export async function shutdown(): Promise<void> {
  await activeRuntime()?.shutdown();
}

/**
 * Label a resource at run time (a file path, absolute or relative to the working directory, a
 * `host:port`, or a URI such as `https://api.example.com:443` or `service://billing`), as if it
 * were the first `resources:` entry of the config. Takes effect at once (new policy epoch).
 * Without provenant started it does nothing, like the rest of this API. A form that cannot be
 * labelled (e.g. `process://`) throws a RangeError: that is a programming error, not a fault.
 * With config `api.label: false` (hardened deployments) it throws a ProvenanceDeniedError (rule
 * `self-protection`) and labels nothing.
 */
export function label(uriOrPath: string, labels: LabelSpec): void {
  activeRuntime()?.engine.labelResource(uriOrPath, labels);
}

/** Run `fn` in its own flow context: reads inside it do not taint the rest of the process. */
export function run<T>(fn: () => T, options: RunOptions = {}): T {
  const runtime = activeRuntime();
  if (!runtime) return fn();
  return runtime.engine.contexts.runIn('run', fn, undefined, options.user);
}

export function current(): CurrentProvenance {
  const runtime = activeRuntime();
  if (!runtime) return { sources: [], labels: { confidentiality: 'public', integrity: 'high', tags: [], locations: [] }, context: 'none' };
  const ctx = runtime.engine.contexts.current();
  return { sources: [...ctx.provenance.sources], labels: runtime.engine.schema.toPublic(ctx.provenance.labels), context: ctx.kind };
}

/** Application-level provenance: a journal record and a span, linked into lineage like any flow. */
export function record(event: ApplicationEvent): void {
  const runtime = activeRuntime();
  if (!runtime) return;
  try {
    runtime.engine.recordApplicationEvent(event);
  } catch (error) {
    // Recording fails open: an app's provenance call never breaks the app.
    diag.warn(`provenant: record(${JSON.stringify(event.action)}) could not be recorded`, error);
  }
}

/**
 * Attest a fact this service vouches for, e.g. `attest('booking_confirmed', { booking: id, user })`:
 * signed with the service's identity key, journaled, exported as a span and added to the fact
 * base the monitors reason over (monitors see `attested(<service>, booking_confirmed(<id>, <user>))`:
 * the arguments in the order given). Returns the fact, or undefined when provenant is not started
 * or the fact could not be recorded (a diag warning; never an exception in the app).
 */
export function attest(
  name: string,
  args: readonly (string | number)[] | Readonly<Record<string, string | number>> = [],
): Fact | undefined {
  const runtime = activeRuntime();
  if (!runtime) return undefined;
  const values = (Array.isArray(args) ? args : Object.values(args)) as (string | number)[];
  if (!/^[a-z][A-Za-z0-9_]*$/.test(name) || values.some((value) => typeof value !== 'string' && typeof value !== 'number')) {
    throw new TypeError(
      `provenant.attest: the name must be a lower-case word and the arguments strings or numbers, got ${JSON.stringify(name)}`,
    );
  }
  try {
    return runtime.engine.attestations.attest(name, values.map(String));
  } catch (error) {
    diag.warn(`provenant: attest(${JSON.stringify(name)}) could not be recorded`, error);
    return undefined;
  }
}

/** Receive every flow event in-process (asynchronously; a slow or throwing listener never blocks I/O). */
export function subscribe(listener: FlowListener): () => void {
  const runtime = activeRuntime();
  if (!runtime) return () => undefined;
  return runtime.subscribers.subscribe(listener);
}
