/**
 * Starting and stopping provenant in a process: load the config, build the provenance model
 * and policy, open the store and journal, wire lineage export, enable the instrumentations and
 * hook every exit path. The runtime is a process-wide singleton kept on globalThis, so loading
 * provenant twice (`-r` plus an import, or CJS and ESM copies) never patches twice.
 */
import { mkdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { syncBuiltinESMExports } from 'node:module';
import { diag, DiagConsoleLogger, DiagLogLevel, type TracerProvider } from '@opentelemetry/api';
import { ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import { resolveStateDir } from '../config/state-dir.js';
import type { Mode, ProvenantConfig } from '../config/types.js';
import { FlowEngine } from '../engine/flow-engine.js';
import { internally } from '../support/reentrancy.js';
import { packageVersion } from '../support/package-version.js';
import { Subscribers } from '../engine/subscribers.js';
import { realPath } from '../provenance/file-identity.js';
import { createInstrumentations, selectInstrumentations } from '../instrumentation/index.js';
import { otlpEndpoints } from '../instrumentation/net/app-telemetry.js';
import type { Instrumentation, InstrumentationContext } from '../instrumentation/instrumentation.js';
import { StdioGate } from '../instrumentation/stdio-gate.js';
import { Transfers } from '../instrumentation/transfers.js';
import { contentDigest, pseudonymize } from '../journal/digest.js';
import { loadSigningKey, type SigningKey } from '../journal/keys.js';
import { keepPolicy } from '../journal/policies.js';
import { NOTE_ATTRIBUTE } from '../journal/held.js';
import { parseVkey, SIG_COSIGNATURE } from '../journal/note.js';
import { WitnessClient } from '../journal/witness-client.js';
import { openJournal, type JournalWriter } from '../journal/writer.js';
import { chooseExporters, LineageTracing } from '../lineage/tracing.js';
import { OpenLineageExport } from '../openlineage/exporter.js';
import { producerUri } from '../openlineage/facets.js';
import { chooseLogExport, LogExport } from '../export/log-export.js';
import { PolicyHolder } from '../policy/holder.js';
import type { CompiledPolicy } from '../policy/types.js';
import { ProvenancePropagator } from '../propagation/propagator.js';
import { FlowContexts } from '../provenance/context.js';
import { ProvenanceSets } from '../provenance/provenance-set.js';
import { ResourceRegistry } from '../provenance/resource.js';
import { openProvenanceStore } from '../provenance/sqlite-store.js';
import type { ProvenanceStore } from '../provenance/store.js';
import { compileMonitors, type CompiledMonitors } from '../monitor/compile.js';
import { FactBase } from '../monitor/facts.js';
import { fetchEvidence } from '../propagation/evidence-client.js';
import { ServiceIdentity } from '../propagation/identity.js';
import { createChildClaims, inheritParentClaim } from './child-claims.js';
import { installExitHooks } from './exit-hooks.js';
import { checkInstrumentSelection } from './instrument-selection.js';
import { protectedPaths } from './protected-paths.js';
import { refuseNativeDumpFlags } from './native-dump-flags.js';
import { resolveServiceName, resourceAttributes } from './resource-attributes.js';

export interface StartOptions {
  /** Path of the YAML config (default: PROVENANT_CONFIG, else ./provenant.yaml, else built-in defaults). */
  config?: string;
  /** Overrides the config's mode (as PROVENANT_MODE does). */
  mode?: Mode;
  /** Where the journal and node-local store live (default: PROVENANT_STATE_DIR, ...). */
  stateDir?: string;
  /** Patch fs/net/http/fetch (default true). */
  instrument?: boolean;
}

export interface Runtime {
  readonly config: ProvenantConfig;
  readonly service: string;
  readonly stateDir: string;
  readonly engine: FlowEngine;
  readonly subscribers: Subscribers;
  /** Emit lineage spans through the app's TracerProvider (ProvenantInstrumentation); undefined: provenant's own again. */
  useTracerProvider(provider: TracerProvider | undefined): void;
  shutdown(): Promise<void>;
}

const RUNTIME_KEY = Symbol.for('provenant.runtime');
/**
 * At most 2 s exporting at exit: what an unreachable collector costs. Plus, only for an app that
 * ends before its export worker is ready (in its first moments, on a busy machine), at most 10 s
 * for the worker to get there: without it every span of such a run would be lost.
 */
const EXIT_FLUSH_BUDGET = { startMs: 10_000, exportMs: 2000 };

type RuntimeGlobal = typeof globalThis & { [RUNTIME_KEY]?: Runtime };

export function activeRuntime(): Runtime | undefined {
  return (globalThis as RuntimeGlobal)[RUNTIME_KEY];
}

export function start(options: StartOptions = {}): Runtime {
  const existing = activeRuntime();
  if (existing) return existing;
  const env = process.env;
  const logLevel = configureDiag(env);
  // start({ mode }) acts as PROVENANT_MODE does, so it also survives config reloads.
  const effectiveEnv = options.mode ? { ...env, PROVENANT_MODE: options.mode } : env;
  const config = loadConfig({ ...(options.config ? { file: options.config } : {}), env: effectiveEnv });
  const service = resolveServiceName(env, config.service);
  const stateDir = resolveStateDir(env, options.stateDir);
  const journalKey = readJournalKey(env);
  checkWitnessKeys(config);
  refuseNativeDumpFlags(config.mode);
  // Rules are checked before anything is patched: a bad rule stops the start like a bad config.
  const monitors = compileMonitors(config);
  checkInstrumentSelection(env['PROVENANT_INSTRUMENT'], config.mode);
  const identity = loadIdentity(service, config, env);
  const runtime = createRuntime(config, effectiveEnv, service, stateDir, options.instrument ?? config.mode !== 'off', logLevel, {
    journalKey,
    monitors,
    identity,
  });
  (globalThis as RuntimeGlobal)[RUNTIME_KEY] = runtime;
  return runtime;
}

function createRuntime(
  config: ProvenantConfig,
  env: NodeJS.ProcessEnv,
  service: string,
  stateDir: string,
  instrument: boolean,
  logLevel: DiagLogLevel,
  keys: { journalKey: SigningKey | undefined; monitors: CompiledMonitors; identity: ServiceIdentity },
): Runtime {
  const { journalKey, monitors, identity } = keys;
  // The holder reports rejected reloads through diag itself.
  // Each policy the journal names is kept by its digest, so its decisions can be replayed.
  const keep = (compiled: CompiledPolicy): void => {
    if (config.mode === 'off' || !config.journal.enabled) return;
    try {
      keepPolicy(stateDir, compiled.digest, compiled.source);
    } catch (error) {
      diag.warn(`provenant: cannot keep policy ${compiled.digest} under ${stateDir}; its decisions cannot be replayed`, error);
    }
  };
  const policy = new PolicyHolder({ config, env, onReload: keep });
  const schema = policy.schema;
  const resources = new ResourceRegistry(config.node);
  const sets = new ProvenanceSets(schema.neutral);
  const contexts = new FlowContexts(sets, { granularity: config.granularity, inheritProcessContext: config.inheritProcessContext });
  const subscribers = new Subscribers();
  const enabled = config.mode !== 'off';

  try {
    internally(() => mkdirSync(stateDir, { recursive: true }));
  } catch (error) {
    // The store falls back to memory and the journal counts lost records: flows are still decided.
    diag.warn(`provenant: state dir ${stateDir} is unusable; provenance is kept in memory and journal records are lost`, error);
  }
  keep(policy.current);
  const store: ProvenanceStore | undefined = enabled ? openProvenanceStore(stateDir, schema) : undefined;
  const tracing = enabled
    ? new LineageTracing(resourceAttributes(service, config.node, env), chooseExporters(env), packageVersion(), logLevel)
    : undefined;
  const logProtocol = enabled && config.journal.enabled ? chooseLogExport(env) : undefined;
  const logExport = logProtocol ? new LogExport(stateDir, logProtocol, env, packageVersion(), logLevel) : undefined;
  const witnesses =
    enabled && config.journal.enabled && config.journal.witnesses.length > 0
      ? new WitnessClient(config.journal.witnesses, stateDir)
      : undefined;
  const openlineage =
    enabled && config.journal.enabled && config.journal.openlineage
      ? new OpenLineageExport({
          ...config.journal.openlineage,
          producer: producerUri(packageVersion()),
          stateDir,
          service,
        })
      : undefined;
  const journal: JournalWriter | undefined =
    enabled && config.journal.enabled
      ? openJournal({
          stateDir,
          config: config.journal,
          service,
          node: config.node,
          pid: process.pid,
          signingKey: journalKey,
          onCheckpoint: (checkpoint) => {
            witnesses?.submit(checkpoint);
            openlineage?.submit(checkpoint);
            tracing?.emit(
              'provenant.checkpoint',
              {
                'provenant.checkpoint.origin': checkpoint.origin,
                'provenant.checkpoint.tree_size': checkpoint.size,
                'provenant.checkpoint.root': checkpoint.root.toString('base64'),
                [NOTE_ATTRIBUTE]: checkpoint.note,
              },
              [],
              undefined,
            );
          },
        })
      : undefined;
  const pseudonymKey = env['PROVENANT_KEY'];
  const engine = new FlowEngine({
    schema,
    resources,
    sets,
    contexts,
    policy,
    subscribers,
    store,
    journal,
    lineage: tracing,
    contentHash: config.journal.contentHash,
    repeatWindowMs: config.journal.repeatWindowMs,
    digest: contentDigest,
    recordUser: config.journal.pseudonymize && pseudonymKey ? (user) => pseudonymize(user, pseudonymKey) : undefined,
    monitoring: {
      service,
      compiled: monitors,
      facts: new FactBase(),
      signer: identity,
      verifier: identity,
      evidenceOrigins: new Map(config.trust.identities.flatMap((peer) => (peer.evidence ? [[peer.service, peer.evidence] as const] : []))),
      fetchEvidence,
      clock: Date.now,
    },
    runtimeLabels: config.api.label,
  });

  const peers = new ProvenancePropagator({
    service,
    location: config.location,
    key: env['PROVENANT_KEY'],
    identity,
    audience: config.trust.audience,
    peers: config.trust.peers,
    maxAgeSeconds: config.trust.maxAgeSeconds,
  });
  const childOfProvenant = enabled && inheritParentClaim(engine, peers, process.env);
  const selection = selectInstrumentations(env['PROVENANT_INSTRUMENT']);
  const instrumentations: Instrumentation[] =
    instrument && enabled ? createInstrumentations().filter((part) => selection.enabled.has(part.name)) : [];
  const context: InstrumentationContext = {
    engine,
    config,
    service,
    peers,
    protectedPaths: protectedPaths(config, env, stateDir),
    childClaims: createChildClaims(peers, config, env, stateDir),
    registerModule: internally(() => realPath(join(__dirname, '..', 'register.js'))),
    childOfProvenant,
    telemetryEndpoints: otlpEndpoints(env),
    // What the parent handed over is what this process starts with (inheritParentClaim seeded it).
    stdio: new StdioGate(engine, config, childOfProvenant ? engine.contexts.process.provenance : undefined),
    transfers: new Transfers(),
  };
  for (const instrumentation of instrumentations) {
    try {
      instrumentation.enable(context);
    } catch (error) {
      diag.error(`provenant: enabling the ${instrumentation.name} instrumentation failed`, error);
    }
  }
  // ESM named imports (`import { readFileSync } from 'node:fs'`) see the patched functions.
  syncBuiltinESMExports();
  if (config.file) policy.watch();

  /** Everything recorded so far goes to the journal; both ways out (exit hooks, shutdown) start here. */
  const closeRecording = (): void => {
    engine.flushRepeats();
    subscribers.deliver();
    journal?.close();
  };
  const removeExitHooks = installExitHooks({
    final: () => {
      closeRecording();
      witnesses?.flushSync(EXIT_FLUSH_BUDGET.exportMs);
      openlineage?.flushSync(EXIT_FLUSH_BUDGET.exportMs);
      logExport?.flushSync(EXIT_FLUSH_BUDGET.exportMs);
      tracing?.flushSync(EXIT_FLUSH_BUDGET);
      reportLostSpans(tracing);
      store?.close();
    },
    checkpoint: () => {
      engine.flushRepeats();
      subscribers.deliver();
      journal?.checkpoint();
      // checkpoint() buffers its line; flushSync writes it (fsynced when journal.sync is 'always').
      // Spans are not waited for here: a slow collector must not hold up the app's own shutdown
      // handler; they leave with the next batch, or at 'exit'.
      journal?.flushSync();
    },
  });

  let stopped: Promise<void> | undefined;
  const runtime: Runtime = {
    config,
    service,
    stateDir,
    engine,
    subscribers,
    useTracerProvider(provider) {
      tracing?.adopt(provider);
    },
    shutdown() {
      if (!config.api.shutdown) return Promise.reject(engine.apiDenied('shutdown'));
      stopped ??= (async () => {
        removeExitHooks();
        for (const instrumentation of instrumentations) instrumentation.disable();
        syncBuiltinESMExports();
        policy.close();
        closeRecording();
        witnesses?.flushSync(EXIT_FLUSH_BUDGET.exportMs);
        await witnesses?.close();
        openlineage?.flushSync(EXIT_FLUSH_BUDGET.exportMs);
        await openlineage?.close();
        logExport?.flushSync(EXIT_FLUSH_BUDGET.exportMs);
        await logExport?.close();
        await tracing?.shutdown();
        reportLostSpans(tracing);
        store?.close();
        delete (globalThis as RuntimeGlobal)[RUNTIME_KEY];
      })();
      return stopped;
    },
  };
  return runtime;
}

/** This service's signing identity; an unusable PROVENANT_IDENTITY_KEY stops the start like a bad config. */
function loadIdentity(service: string, config: ProvenantConfig, env: NodeJS.ProcessEnv): ServiceIdentity {
  try {
    return new ServiceIdentity({
      service,
      identityKey: env['PROVENANT_IDENTITY_KEY'],
      sharedKey: env['PROVENANT_KEY'],
      trusted: config.trust.identities,
    });
  } catch (error) {
    throw new ConfigError(
      `PROVENANT_IDENTITY_KEY is not a usable Ed25519 private key (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}

/**
 * PROVENANT_JOURNAL_KEY (PEM or a path to one). A key that is set but unusable stops the start, as
 * an invalid config does: running unsigned would quietly turn evidence into mere logs.
 */
function readJournalKey(env: NodeJS.ProcessEnv): SigningKey | undefined {
  const value = env['PROVENANT_JOURNAL_KEY'];
  if (value === undefined || value === '') return undefined;
  try {
    return internally(() => loadSigningKey(value));
  } catch (error) {
    throw new ConfigError(`PROVENANT_JOURNAL_KEY is unusable: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Witness keys are checked at start, so a typo is exit 78 and not a worker that never cosigns. */
function checkWitnessKeys(config: ProvenantConfig): void {
  for (const witness of config.journal.witnesses) {
    let type: number;
    try {
      type = parseVkey(witness.vkey).type;
    } catch (error) {
      throw new ConfigError(`journal.witnesses ${witness.url}: ${(error as Error).message}`, config.file);
    }
    if (type !== SIG_COSIGNATURE)
      throw new ConfigError(`journal.witnesses ${witness.url}: vkey is not a cosignature (type 0x04) key`, config.file);
  }
}

/**
 * Spans that never reached the collector are evidence missing from the backend: said on stderr
 * in one line, even with diagnostics off. Nothing is written when everything was exported.
 */
function reportLostSpans(tracing: LineageTracing | undefined): void {
  const loss = tracing?.lossReport();
  if (loss === undefined) return;
  try {
    internally(() => writeSync(2, `provenant: ${loss}\n`));
  } catch {
    // stderr is closed: there is nowhere left to say it.
  }
}

/** OTEL_LOG_LEVEL turns on diagnostics; provenant is silent by default. */
function configureDiag(env: NodeJS.ProcessEnv): DiagLogLevel {
  const raw = env['OTEL_LOG_LEVEL']?.trim().toUpperCase();
  if (!raw) return DiagLogLevel.NONE;
  const level = (DiagLogLevel as unknown as Record<string, DiagLogLevel | undefined>)[raw] ?? DiagLogLevel.INFO;
  diag.setLogger(new DiagConsoleLogger(), { logLevel: level, suppressOverrideMessage: true });
  return level;
}
