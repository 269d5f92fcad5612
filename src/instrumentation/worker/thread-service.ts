/**
 * A worker thread is part of its creator's service: the creating thread's provenant hands its
 * service name over as environment data (worker-class.ts), a key app code may not set there. The
 * worker's own OTEL_SERVICE_NAME or package lookup (its argv names no script) is not asked.
 */
import { isMainThread } from '../../support/main-thread.js';

export const WORKER_SERVICE_KEY = 'provenant.worker-service';

/** In a worker a thread under provenant created: that thread's service name; else undefined. */
export function creatorService(): string | undefined {
  if (isMainThread()) return undefined;
  const value: unknown = process.getBuiltinModule('node:worker_threads').getEnvironmentData(WORKER_SERVICE_KEY);
  return typeof value === 'string' && value !== '' ? value : undefined;
}
