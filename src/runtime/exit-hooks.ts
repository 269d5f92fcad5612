/**
 * Flush on every way a process ends, without changing how it ends: normal exit,
 * `process.exit(n)` and uncaught exceptions all emit 'exit' (where only synchronous work runs,
 * hence the synchronous flushes); SIGTERM/SIGINT with no app handler are re-raised after the
 * flush so the process still dies by the signal (status 143/130 in a shell).
 *
 * When the app (or an OpenTelemetry SDK's shutdown handler) handles the signal itself, it may
 * drain for a while or never exit at all, and an orchestrator SIGKILLs it after its grace
 * period: no 'exit' then. So the signal still checkpoints everything recorded so far, durably,
 * at once; the journal stays open for what the drain records, and 'exit' closes it if it comes.
 */
const HANDLED_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

export interface ExitFlushes {
  /** The process is ending: close and flush everything (synchronously). */
  final: () => void;
  /** The process was asked to end and may be killed any moment: make what was recorded durable. */
  checkpoint: () => void;
}

/** Runs `fn`; nothing may escape an exit path (the journal and exporter report their own faults). */
function quietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // Reported by the part that failed.
  }
}

export function installExitHooks(flushes: ExitFlushes): () => void {
  let flushed = false;
  const flushOnce = (): void => {
    if (flushed) return;
    flushed = true;
    quietly(flushes.final);
  };
  const onExit = (): void => flushOnce();
  const onSignal = (signal: NodeJS.Signals): void => {
    // The app handles this signal itself: its handler decides whether and how to exit; 'exit'
    // flushes then, if it ever comes.
    if (process.listenerCount(signal) > 1) {
      if (!flushed) quietly(flushes.checkpoint);
      return;
    }
    flushOnce();
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  };
  process.on('exit', onExit);
  for (const signal of HANDLED_SIGNALS) process.on(signal, onSignal);
  return () => {
    process.removeListener('exit', onExit);
    for (const signal of HANDLED_SIGNALS) process.removeListener(signal, onSignal);
  };
}
