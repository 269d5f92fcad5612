/**
 * Starting and stopping provenant in a process: load the config, build the provenance model
 * and policy, open the store and journal, wire lineage export, enable the instrumentations and
 * hook every exit path. The runtime is a process-wide singleton kept on globalThis, so loading
 * provenant twice (`-r` plus an import, or CJS and ESM copies) never patches twice. Its parts:
 * keys.ts (the keys checked before anything is patched), record-outputs.ts (journal, spans and
 * the exports that flush at exit), exit-hooks.ts, child-claims.ts, resource-attributes.ts.
 */
import { mkdirSync } from 'node:fs';
import { ownFile } from '../support/own-files.js';
import { syncBuiltinESMExports } from 'node:module';
import { diag, DiagConsoleLogger, DiagLogLevel, type TracerProvider } from '@opentelemetry/api';
import type { ExitFlushBudget } from '../lineage/worker-span-processor.js';
import { applyEnvironment, configFilePath, loadConfig } from '../config/load.js';
import { resolveStateDir } from '../config/state-dir.js';
import type { Mode, ProvenantConfig } from '../config/types.js';
import { FlowEngine } from '../engine/flow-engine.js';
import { internally } from '../support/reentrancy.js';
import { Subscribers } from '../engine/subscribers.js';
import { realPath } from '../provenance/file-identity.js';
import { createInstrumentations, selectInstrumentations } from '../instrumentation/index.js';
import { creatorConfig, creatorService } from '../instrumentation/worker/creator.js';
import { namedOtlpEndpoints, telemetryEnvironment } from '../instrumentation/net/app-telemetry.js';
import { GrpcTelemetry } from '../instrumentation/net/grpc-telemetry.js';
import type { Instrumentation, InstrumentationContext } from '../instrumentation/instrumentation.js';
import { StdioGate } from '../instrumentation/stdio-gate.js';
import { Transfers } from '../instrumentation/transfers.js';
import { contentDigest, pseudonymize } from '../journal/digest.js';
import { keepPolicy } from '../journal/policies.js';
import { PolicyHolder } from '../policy/holder.js';
import type { CompiledPolicy } from '../policy/types.js';
import { ProvenancePropagator } from '../propagation/propagator.js';
import { FlowContexts } from '../provenance/context.js';
import { ProvenanceSets } from '../provenance/provenance-set.js';
import { ResourceRegistry } from '../provenance/resource.js';
import { openProvenanceStore } from '../provenance/sqlite-store.js';
import { LazyProvenanceStore } from '../provenance/lazy-store.js';
import type { ProvenanceStore } from '../provenance/store.js';
import { compileMonitors, type CompiledMonitors } from '../monitor/compile.js';
import { FactBase } from '../monitor/facts.js';
import { fetchEvidence } from '../propagation/evidence-client.js';
import { createChildClaims, inheritParentClaim } from './child-claims.js';
import { installExitHooks } from './exit-hooks.js';
import { enableFailed, handlePatchFailures } from './patch-failures.js';
import { checkInstrumentSelection } from './instrument-selection.js';
import { protectedPaths } from './protected-paths.js';
import { refuseIntrospectionFlags } from './introspection-flags.js';
import { refuseNativeDumpFlags } from './native-dump-flags.js';
import { resolveServiceName } from './resource-attributes.js';
import { checkWitnessKeys, loadIdentity, readJournalKey } from './keys.js';
import { RecordOutputs } from './record-outputs.js';
import type { SigningKey } from '../journal/keys.js';
import type { ServiceIdentity } from '../propagation/identity.js';

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
 * `PROVENANT_EXIT_FLUSH_MS` sets both (an operator whose collector is far, a machine that is
 * always loaded, a test that must not depend on how busy its machine is).
 */
const EXIT_FLUSH_BUDGET: ExitFlushBudget = { startMs: 10_000, exportMs: 2000 };

function exitFlushBudget(env: NodeJS.ProcessEnv): ExitFlushBudget {
  const raw = env['PROVENANT_EXIT_FLUSH_MS'];
  if (raw === undefined) return EXIT_FLUSH_BUDGET;
  const value = Number(raw);
  if (Number.isSafeInteger(value) && value >= 0) return { startMs: value, exportMs: value };
  diag.warn(`provenant: PROVENANT_EXIT_FLUSH_MS "${raw}" is not a whole number of milliseconds, using the default budget`);
  return EXIT_FLUSH_BUDGET;
}

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
  const config =
    handedConfig(options, effectiveEnv) ?? loadConfig({ ...(options.config ? { file: options.config } : {}), env: effectiveEnv });
  // A worker thread records under the service of the thread that created it.
  const service = creatorService() ?? resolveServiceName(env, config.service);
  const stateDir = resolveStateDir(env, options.stateDir);
  const journalKey = readJournalKey(env);
  checkWitnessKeys(config);
  refuseNativeDumpFlags(config.mode);
  refuseIntrospectionFlags(config.mode);
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
  // The store opens with the first file flow (lazy-store.ts): SQLite and its connection cost start-up
  // ~1.6 MiB and a worker ~1.3 ms, for processes and threads that may touch no file.
  const openStore = (): ProvenanceStore => openProvenanceStore(stateDir, schema);
  const store: ProvenanceStore | undefined = enabled ? new LazyProvenanceStore(openStore) : undefined;
  const outputs = enabled
    ? new RecordOutputs({ config, env, service, stateDir, journalKey, logLevel, exitBudget: exitFlushBudget(env) })
    : undefined;
  const journal = outputs?.journal;
  const tracing = outputs?.tracing;
  const pseudonymKey = env['PROVENANT_KEY'];
  const h2cAttesters = new Set(config.trust.identities.flatMap((peer) => (peer.evidenceProtocol === 'h2c' ? [peer.service] : [])));
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
      fetchEvidence: (origin, principal, name) => fetchEvidence({ origin, h2c: h2cAttesters.has(principal) }, principal, name),
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
    currentConfig: () => policy.config,
    service,
    peers,
    protectedPaths: protectedPaths(config, env, stateDir),
    childClaims: createChildClaims(peers, config, env, stateDir),
    registerModule: internally(() => realPath(ownFile('register.js'))),
    childOfProvenant,
    telemetry: telemetryEnvironment(env),
    grpcTelemetry: new GrpcTelemetry(namedOtlpEndpoints(env), env),
    // What the parent handed over is what this process starts with (inheritParentClaim seeded it).
    stdio: new StdioGate(engine, config, childOfProvenant ? engine.contexts.process.provenance : undefined),
    transfers: new Transfers(),
    threadLogs: outputs?.threadLogs ?? { handOver: () => undefined, ended: () => undefined },
  };
  handlePatchFailures(config.mode);
  for (const instrumentation of instrumentations) {
    try {
      instrumentation.enable(context);
    } catch (error) {
      enableFailed(config.mode, instrumentation.name, error);
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
      outputs?.closeThreadLogs();
      outputs?.flushSync();
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
        await outputs?.close();
        store?.close();
        delete (globalThis as RuntimeGlobal)[RUNTIME_KEY];
      })();
      return stopped;
    },
  };
  return runtime;
}

/**
 * In a worker: the config its creator handed over, when this thread would load that same file
 * (with this thread's own mode override applied, as loadConfig does).
 */
function handedConfig(options: StartOptions, env: NodeJS.ProcessEnv): ProvenantConfig | undefined {
  if (options.config !== undefined) return undefined;
  const handed = creatorConfig(configFilePath({}, env, process.cwd()));
  return handed === undefined ? undefined : applyEnvironment(handed, env);
}

/** OTEL_LOG_LEVEL turns on diagnostics; provenant is silent by default. */
function configureDiag(env: NodeJS.ProcessEnv): DiagLogLevel {
  const raw = env['OTEL_LOG_LEVEL']?.trim().toUpperCase();
  if (!raw) return DiagLogLevel.NONE;
  const level = (DiagLogLevel as unknown as Record<string, DiagLogLevel | undefined>)[raw] ?? DiagLogLevel.INFO;
  diag.setLogger(new DiagConsoleLogger(), { logLevel: level, suppressOverrideMessage: true });
  return level;
}
