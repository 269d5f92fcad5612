/**
 * Holds the current compiled policy and replaces it when the config file changes.
 *
 * - `reload()` re-reads and recompiles the file into a new policy with a new epoch (so no cached
 *   decision of the old policy is reused). An invalid edit keeps the last good policy and reports
 *   the ConfigError through OpenTelemetry's `diag.error` and `onError`. Changing `levels` or `node`
 *   is rejected the same way: label indices and file URIs already recorded depend on them.
 * - `watch()` watches the config file's folder (so editors that save by writing a new file and
 *   renaming it over the old one are seen) plus a slow stat poll for filesystems without change
 *   events, and listens for SIGHUP. Note: adding a SIGHUP listener replaces Node's default
 *   "terminate on SIGHUP"; it is added only while a config file is being watched, and `close()`
 *   removes it again. Pass `sighup: false` to leave SIGHUP alone.
 * - Watchers and timers are unref'd: they never keep the process alive.
 */
import { diag } from '@opentelemetry/api';
import { watch, watchFile, unwatchFile, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { ConfigError } from '../config/errors.js';
import { applyEnvironment, loadConfig, parseConfig, readConfigText, type LoadConfigOptions } from '../config/load.js';
import type { ProvenantConfig, ResourceLabelRule } from '../config/types.js';
import { LabelSchema } from '../provenance/labels.js';
import { compilePolicy } from './compile.js';
import type { CompiledPolicy } from './types.js';

export interface PolicyHolderOptions extends LoadConfigOptions {
  /** The loaded config (see `loadConfig`). */
  config: ProvenantConfig;
  /** The label schema the rest of the process uses (default: one built from config.levels). */
  schema?: LabelSchema;
  /** Called with every rejected reload (after `diag.error`). */
  onError?: (error: Error) => void;
  /** Called after a new policy is in place. */
  onReload?: (policy: CompiledPolicy, config: ProvenantConfig) => void;
}

export interface WatchOptions {
  /** Reload on SIGHUP too (default true). */
  sighup?: boolean;
  /** Interval of the fallback stat poll in ms (default 1000). */
  pollIntervalMs?: number;
}

/** Editors often write a file in several steps; wait for them to settle before re-reading. */
export const SETTLE_MS = 50;

export class PolicyHolder {
  readonly schema: LabelSchema;
  private currentPolicy: CompiledPolicy;
  private currentConfig: ProvenantConfig;
  /** `provenant.label()` entries, newest first; they stay ahead of the file's entries across reloads. */
  private runtimeResources: ResourceLabelRule[] = [];
  private lastText: string | undefined;
  private watcher: FSWatcher | undefined;
  private polling = false;
  private readonly onPoll = (): void => this.scheduleReload();
  private settleTimer: NodeJS.Timeout | undefined;
  private readonly onSighup = (): void => {
    this.reload();
  };
  private sighupListening = false;

  constructor(private readonly options: PolicyHolderOptions) {
    const config = options.config;
    this.schema = options.schema ?? new LabelSchema(config.levels.confidentiality, config.levels.integrity);
    this.currentConfig = config;
    this.currentPolicy = compilePolicy(config, this.schema, 1);
  }

  /** The policy in force; read it per decision, it is replaced whole on reload. */
  get current(): CompiledPolicy {
    return this.currentPolicy;
  }

  get config(): ProvenantConfig {
    return this.currentConfig;
  }

  /** Recompile from the config file. Returns false (and reports) when the edit is rejected. */
  reload(): boolean {
    return this.reloadText(undefined);
  }

  /** Recompile from `text` when the caller has just read the file, else from a fresh read. */
  private reloadText(text: string | undefined): boolean {
    try {
      const next = this.readConfig(text);
      this.checkCompatible(next);
      this.install(next, this.runtimeResources);
      return true;
    } catch (error) {
      this.report(error);
      return false;
    }
  }

  /**
   * Label a resource at run time, ahead of every config entry (newest first); it survives
   * reloads. Recompiles into a new epoch. Throws (and changes nothing) for an unknown level.
   * Labelling the same match again replaces the earlier label.
   */
  prependResource(rule: ResourceLabelRule): void {
    const key = JSON.stringify(rule.match);
    const runtime = [rule, ...this.runtimeResources.filter((existing) => JSON.stringify(existing.match) !== key)];
    this.install(this.currentConfig, runtime);
  }

  watch(options: WatchOptions = {}): void {
    const file = this.currentConfig.file;
    if (file === undefined || this.watcher !== undefined || this.polling) return;
    const name = basename(file);
    try {
      this.watcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
        if (changed === null || changed === name) this.scheduleReload();
      });
      this.watcher.on('error', (error) => this.report(error));
      this.watcher.unref();
    } catch (error) {
      this.report(error);
    }
    watchFile(file, { persistent: false, interval: options.pollIntervalMs ?? 1000 }, this.onPoll);
    this.polling = true;
    if (options.sighup ?? true) {
      process.on('SIGHUP', this.onSighup);
      this.sighupListening = true;
    }
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    const file = this.currentConfig.file;
    if (this.polling && file !== undefined) unwatchFile(file, this.onPoll);
    this.polling = false;
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = undefined;
    if (this.sighupListening) process.removeListener('SIGHUP', this.onSighup);
    this.sighupListening = false;
  }

  /** Compile first, swap after: a compile error leaves the current policy in place. */
  private install(config: ProvenantConfig, runtime: ResourceLabelRule[]): void {
    const effective = runtime.length === 0 ? config : { ...config, resources: [...runtime, ...config.resources] };
    const policy = compilePolicy(effective, this.schema, this.currentPolicy.epoch + 1);
    this.currentConfig = config;
    this.runtimeResources = runtime;
    this.currentPolicy = policy;
    this.options.onReload?.(policy, config);
  }

  private scheduleReload(): void {
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      this.reloadIfChanged();
    }, SETTLE_MS);
    this.settleTimer.unref();
  }

  /** A change event with identical content (touch, poll after a rename) is not a new policy. */
  private reloadIfChanged(): void {
    const file = this.currentConfig.file;
    if (file === undefined) return;
    let text: string;
    try {
      text = readConfigText(file);
    } catch {
      // Mid-replace or deleted: keep the policy; the next event (file created again) reloads.
      return;
    }
    if (text !== this.lastText) this.reloadText(text);
  }

  private readConfig(known: string | undefined): ProvenantConfig {
    const file = this.currentConfig.file;
    if (file === undefined) return loadConfig(this.options);
    const text = known ?? readConfigText(file);
    // Remembered before parsing: a bad edit is reported once, not again on every change event.
    this.lastText = text;
    return parseWithEnvironment(file, text, this.options);
  }

  private checkCompatible(next: ProvenantConfig): void {
    const before = this.currentConfig.levels;
    const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((level, i) => level === b[i]);
    if (!same(before.confidentiality, next.levels.confidentiality) || !same(before.integrity, next.levels.integrity)) {
      throw new ConfigError('levels cannot change while running; restart the process to use the new levels', next.file);
    }
    if (next.node !== this.currentConfig.node) {
      throw new ConfigError(
        `node cannot change while running (was "${this.currentConfig.node}"); restart the process to use "${next.node}"`,
        next.file,
      );
    }
  }

  private report(error: unknown): void {
    const reported = error instanceof Error ? error : new Error(String(error));
    diag.error(`${reported.message}; keeping the last good policy (epoch ${this.currentPolicy.epoch})`);
    this.options.onError?.(reported);
  }
}

function parseWithEnvironment(file: string, text: string, options: LoadConfigOptions): ProvenantConfig {
  const env = options.env ?? process.env;
  return applyEnvironment(parseConfig(file, text, env, options.hostname), env);
}
