/**
 * Where the records go beside the engine's own sinks: the journal (with its checkpoints handed
 * to witnesses, the OpenLineage export and a checkpoint span), lineage spans, and the journal's
 * export as OTLP log records. One object so the exit paths flush and close them all the same way.
 */
import { writeSync } from 'node:fs';
import type { DiagLogLevel } from '@opentelemetry/api';
import type { ProvenantConfig } from '../config/types.js';
import { ExportThread } from '../export/export-thread.js';
import { chooseLogExport, logExportData } from '../export/log-export.js';
import { ExportStatus } from '../lineage/export-status.js';
import { fileService } from '../journal/format.js';
import { NOTE_ATTRIBUTE } from '../journal/held.js';
import type { SigningKey } from '../journal/keys.js';
import { WitnessClient } from '../journal/witness-client.js';
import { openOnFirstRecord } from '../journal/deferred-writer.js';
import { openJournal, type JournalWriter } from '../journal/writer.js';
import { closeThreadLog, newThreadHandoff, threadHandoff } from '../journal/thread-handoff.js';
import { creatorThreadLog } from '../instrumentation/worker/creator.js';
import type { ThreadLogs } from '../instrumentation/instrumentation.js';
import { chooseExporters, LineageTracing } from '../lineage/tracing.js';
import type { ExitFlushBudget } from '../lineage/worker-span-processor.js';
import { OpenLineageExport } from '../openlineage/exporter.js';
import { producerUri } from '../openlineage/facets.js';
import { packageVersion } from '../support/package-version.js';
import { waitForFlushes, type PendingFlush } from '../support/flushable-worker.js';
import { isMainThread } from '../support/main-thread.js';
import { internally } from '../support/reentrancy.js';
import { processResourceAttributes, resourceAttributes } from './resource-attributes.js';
import { JournalRetention } from '../retention/schedule.js';
import { prunedRecord } from '../retention/evidence.js';

export interface RecordOutputsOptions {
  config: ProvenantConfig;
  env: NodeJS.ProcessEnv;
  service: string;
  stateDir: string;
  journalKey: SigningKey | undefined;
  logLevel: DiagLogLevel;
  exitBudget: ExitFlushBudget;
}

export class RecordOutputs {
  readonly tracing: LineageTracing;
  readonly journal: JournalWriter | undefined;
  /** The OTLP span and journal log exports' one thread, when either is on. */
  private readonly exportThread: ExportThread | undefined;
  private readonly witnesses: WitnessClient | undefined;
  private readonly openlineage: OpenLineageExport | undefined;
  private readonly retention: JournalRetention | undefined;
  private readonly exitBudget: ExitFlushBudget;
  /** Signs the closing checkpoints of threads' logs signed with this same key. */
  private readonly journalKey: SigningKey | undefined;
  /** Logs of the threads this thread started and has not seen end (thread-handoff.ts). */
  private readonly threadHandoffs = new Set<SharedArrayBuffer>();

  constructor(options: RecordOutputsOptions) {
    const { config, env, service, stateDir, logLevel } = options;
    this.exitBudget = options.exitBudget;
    this.journalKey = options.journalKey;
    const choices = chooseExporters(env);
    const otlp = choices.find((choice) => choice.kind === 'otlp');
    const spanStatus = otlp ? new ExportStatus() : undefined;
    const logProtocol = config.journal.enabled ? chooseLogExport(env) : undefined;
    // Started at once: the log export sends what earlier runs left in the journal, and a span
    // export is at least the exit's checkpoint span, so the thread's start-up overlaps the app.
    this.exportThread =
      otlp || logProtocol
        ? new ExportThread({
            provenantExportWorker: true,
            logLevel,
            ...(otlp && spanStatus
              ? {
                  spans: {
                    protocol: otlp.protocol,
                    resource: processResourceAttributes(service, config.node, env),
                    status: spanStatus.cells,
                  },
                }
              : {}),
            ...(logProtocol ? { logs: logExportData(stateDir, logProtocol, env, packageVersion()) } : {}),
          })
        : undefined;
    this.tracing = new LineageTracing(
      () => resourceAttributes(service, config.node, env),
      choices,
      packageVersion(),
      this.exportThread && spanStatus ? { port: this.exportThread, status: spanStatus } : undefined,
    );
    if (!config.journal.enabled) return;
    this.witnesses = config.journal.witnesses.length > 0 ? new WitnessClient(config.journal.witnesses, stateDir) : undefined;
    this.openlineage = config.journal.openlineage
      ? new OpenLineageExport({ ...config.journal.openlineage, producer: producerUri(packageVersion()), stateDir, service })
      : undefined;
    const thread = !isMainThread();
    const handoff = thread ? threadHandoff(creatorThreadLog()) : undefined;
    const open = (): JournalWriter =>
      openJournal({
        stateDir,
        config: config.journal,
        service,
        node: config.node,
        pid: process.pid,
        signingKey: options.journalKey,
        writeThrough: thread,
        handoff,
        onCheckpoint: (checkpoint) => {
          if (checkpoint.closes === 'segment') this.retention?.schedule();
          else this.retention?.periodic();
          this.witnesses?.submit(checkpoint);
          this.openlineage?.submit(checkpoint);
          this.tracing.emit(
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
      });
    // A thread's records are written as they are made (terminate() gives it no exit event), and
    // a thread that records nothing leaves no segment.
    this.journal = thread ? openOnFirstRecord(open) : open();
    // The main thread prunes for the whole dir (threads' logs included): one pass per process.
    const retention = config.journal.retention;
    if (retention && !thread) {
      this.retention = new JournalRetention({
        stateDir,
        retention,
        guards: {
          stateDir,
          logExport: logProtocol !== undefined,
          openlineage: config.journal.openlineage !== undefined,
          servicePrefix: `${fileService(service)}-`,
        },
        origin: () => this.journal?.origin,
        onPruned: (result) => {
          for (const pruned of result.pruned) this.journal?.append(prunedRecord(pruned, result, stateDir, config));
        },
      });
      this.retention.schedule();
    }
  }

  /** The journal logs of threads this thread starts, closed here when they end unclosed. */
  readonly threadLogs: ThreadLogs = {
    handOver: () => {
      if (this.journal === undefined) return undefined;
      const handoff = newThreadHandoff();
      this.threadHandoffs.add(handoff);
      return handoff;
    },
    ended: (handoff) => {
      if (this.threadHandoffs.delete(handoff)) closeThreadLog(handoff, false, this.journalKey);
    },
  };

  /** At exit: closes the logs of the threads still running (they are stopped with the process, unclosed). */
  closeThreadLogs(): void {
    for (const handoff of this.threadHandoffs) closeThreadLog(handoff, true, this.journalKey);
    this.threadHandoffs.clear();
  }

  /**
   * At exit, after the journal is closed: every background export flushes at once, each in its
   * own thread, within one budget, so an exit waits for the slowest, not for the sum.
   */
  flushSync(): void {
    const started = performance.now();
    const flushes = this.requestFlushes();
    this.tracing.flushSync(this.exitBudget);
    waitForFlushes(flushes, this.exitBudget.exportMs - (performance.now() - started));
    this.reportLostSpans();
  }

  /** `shutdown()`: as at exit, then the workers end. */
  async close(): Promise<void> {
    waitForFlushes(this.requestFlushes(), this.exitBudget.exportMs);
    await Promise.all([this.witnesses?.close(), this.openlineage?.close()]);
    // Spans first: the thread they go to closes after.
    await this.tracing.shutdown();
    await this.exportThread?.close();
    this.reportLostSpans();
  }

  private requestFlushes(): (PendingFlush | undefined)[] {
    return [this.witnesses?.requestFlush(), this.openlineage?.requestFlush(), this.exportThread?.requestFlush()];
  }

  /**
   * Spans that never reached the collector are evidence missing from the backend: said on stderr
   * in one line, even with diagnostics off. Nothing is written when everything was exported.
   */
  private reportLostSpans(): void {
    const loss = this.tracing.lossReport();
    if (loss === undefined) return;
    try {
      internally(() => writeSync(2, `provenant: ${loss}\n`));
    } catch {
      // stderr is closed: there is nowhere left to say it.
    }
  }
}
