/**
 * Flush on every way a process ends, without changing how it ends: normal exit,
 * `process.exit(n)` and uncaught exceptions all emit 'exit' (where only synchronous work runs,
 * hence the synchronous flushes); SIGTERM/SIGINT with no app handler are re-raised after the
 * flush so the process still dies by the signal (status 143/130 in a shell).
 */
const HANDLED_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

export function installExitHooks(flushSync: () => void): () => void {
  let flushed = false;
  const flushOnce = (): void => {
    if (flushed) return;
    flushed = true;
    try {
      flushSync();
    } catch {
      // Nothing may escape an exit path; the journal and exporter report their own faults.
    }
  };
  const onExit = (): void => flushOnce();
  const onSignal = (signal: NodeJS.Signals): void => {
    // The app handles this signal itself: its handler decides whether and how to exit, and
    // 'exit' flushes then.
    if (process.listenerCount(signal) > 1) return;
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
