/**
 * Whether this is the process's main thread, without loading `worker_threads` there (loading it
 * has effects Node keeps lazy for the app: instrumentation/builtin-loads.ts). A worker thread
 * always has that module loaded before any preload runs, so "not loaded" means the main thread.
 */
export function isMainThread(): boolean {
  const list = (process as { moduleLoadList?: unknown }).moduleLoadList;
  if (Array.isArray(list) && !list.includes('NativeModule worker_threads')) return true;
  return process.getBuiltinModule('node:worker_threads').isMainThread;
}

/**
 * Whether this is a thread Node runs for itself (the module-hooks thread of `module.register`):
 * Node's code there talks to the main thread on ports it makes and hands over in its messages.
 */
export function isInternalThread(): boolean {
  return !isMainThread() && process.getBuiltinModule('node:worker_threads').isInternalThread;
}
