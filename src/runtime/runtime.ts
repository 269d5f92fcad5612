/**
 * Starting and stopping provenant in a process: load the config, build the provenance model
 * and policy, open the store and journal, wire lineage export, enable the instrumentations and
 * hook every exit path. The runtime is a process-wide singleton kept on globalThis, so loading
 * provenant twice (`-r` plus an import, or CJS and ESM copies) never patches twice.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { syncBuiltinESMExports } from 'node:module';
import { diag, DiagConsoleLogger, DiagLogLevel } from '@opentelemetry/api';
import { loadConfig } from '../config/load.js';
import { resolveStateDir } from '../config/state-dir.js';
import type { Mode, ProvenantConfig } from '../config/types.js';
import { FlowEngine } from '../engine/flow-engine.js';
import { internally } from '../support/reentrancy.js';
import { Subscribers } from '../engine/subscribers.js';
import { realPathOf } from '../instrumentation/fs/self-protection.js';
import { createInstrumentations } from '../instrumentation/index.js';
import type { Instrumentation, InstrumentationContext } from '../instrumentation/instrumentation.js';
import { contentDigest, pseudonymize } from '../journal/digest.js';
import { openJournal, type JournalWriter } from '../journal/writer.js';
import { chooseExporter, LineageTracing } from '../lineage/tracing.js';
import { PolicyHolder } from '../policy/holder.js';
import { ProvenancePropagator } from '../propagation/propagator.js';
import { FlowContexts } from '../provenance/context.js';
import { ProvenanceSets } from '../provenance/provenance-set.js';
import { ResourceRegistry } from '../provenance/resource.js';
import { openProvenanceStore } from '../provenance/sqlite-store.js';
import type { ProvenanceStore } from '../provenance/store.js';
import { createChildClaims, inheritParentClaim } from './child-claims.js';
import { installExitHooks } from './exit-hooks.js';
import { protectedPaths } from './protected-paths.js';
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
  shutdown(): Promise<void>;
}

const RUNTIME_KEY = Symbol.for('provenant.runtime');
const EXIT_FLUSH_BUDGET_MS = 2000;

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
  const runtime = createRuntime(config, effectiveEnv, service, stateDir, options.instrument ?? config.mode !== 'off', logLevel);
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
): Runtime {
  // The holder reports rejected reloads through diag itself.
  const policy = new PolicyHolder({ config, env });
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
  const store: ProvenanceStore | undefined = enabled ? openProvenanceStore(stateDir, schema) : undefined;
  const tracing = enabled
    ? new LineageTracing(resourceAttributes(service, config.node, env), chooseExporter(env), packageVersion(), logLevel)
    : undefined;
  const journal: JournalWriter | undefined =
    enabled && config.journal.enabled
      ? openJournal({
          stateDir,
          config: config.journal,
          service,
          node: config.node,
          pid: process.pid,
          ...(env['PROVENANT_JOURNAL_KEY'] ? { signingKey: env['PROVENANT_JOURNAL_KEY'] } : {}),
          ...(tracing
            ? {
                onCheckpoint: (checkpoint) => {
                  tracing.emit(
                    'provenant.checkpoint',
                    {
                      'provenant.checkpoint.tree_size': checkpoint.treeSize,
                      'provenant.checkpoint.root': checkpoint.root,
                      'provenant.checkpoint.segment': checkpoint.segment,
                      'provenant.checkpoint.signature': checkpoint.signature ?? '',
                      'provenant.checkpoint.key_id': checkpoint.keyId ?? '',
                    },
                    [],
                    undefined,
                  );
                },
              }
            : {}),
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
    runtimeLabels: config.api.label,
  });

  const peers = new ProvenancePropagator({
    service,
    location: config.location,
    key: env['PROVENANT_KEY'],
    peers: config.trust.peers,
    maxAgeSeconds: config.trust.maxAgeSeconds,
  });
  const childOfProvenant = enabled && inheritParentClaim(engine, peers, process.env);
  const instrumentations: Instrumentation[] = instrument && enabled ? createInstrumentations() : [];
  const context: InstrumentationContext = {
    engine,
    config,
    service,
    peers,
    protectedPaths: protectedPaths(config, env, stateDir),
    childClaims: createChildClaims(peers, config, env, stateDir),
    registerModule: internally(() => realPathOf(join(__dirname, '..', 'register.js'))),
    childOfProvenant,
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
  const removeExitHooks = installExitHooks(() => {
    closeRecording();
    tracing?.flushSync(EXIT_FLUSH_BUDGET_MS);
    store?.close();
  });

  let stopped: Promise<void> | undefined;
  const runtime: Runtime = {
    config,
    service,
    stateDir,
    engine,
    subscribers,
    shutdown() {
      if (!config.api.shutdown) return Promise.reject(engine.apiDenied('shutdown'));
      stopped ??= (async () => {
        removeExitHooks();
        for (const instrumentation of instrumentations) instrumentation.disable();
        syncBuiltinESMExports();
        policy.close();
        closeRecording();
        await tracing?.shutdown();
        store?.close();
        delete (globalThis as RuntimeGlobal)[RUNTIME_KEY];
      })();
      return stopped;
    },
  };
  return runtime;
}

/** OTEL_LOG_LEVEL turns on diagnostics; provenant is silent by default. */
function configureDiag(env: NodeJS.ProcessEnv): DiagLogLevel {
  const raw = env['OTEL_LOG_LEVEL']?.trim().toUpperCase();
  if (!raw) return DiagLogLevel.NONE;
  const level = (DiagLogLevel as unknown as Record<string, DiagLogLevel | undefined>)[raw] ?? DiagLogLevel.INFO;
  diag.setLogger(new DiagConsoleLogger(), { logLevel: level, suppressOverrideMessage: true });
  return level;
}

function packageVersion(): string {
  return internally(() => {
    try {
      return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      return '0.0.0';
    }
  });
}
