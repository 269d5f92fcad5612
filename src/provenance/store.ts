/**
 * Interface of the node-local provenance store (files' provenance, shared by every instrumented
 * process on the node and kept across restarts). The SQLite implementation lives in
 * sqlite-store.ts; the engine only uses this interface.
 */
import type { SpanContext } from '@opentelemetry/api';
import type { PublicLabels } from './labels.js';

export interface StoredProvenance {
  /** Source URIs the file's content derives from. */
  sources: string[];
  /** Derived labels of the file's content (not the file's configured labels). */
  labels: PublicLabels;
  /** Span of the write that last changed the provenance, so a later read can link back to it. */
  writeSpan?: SpanContext;
}

export interface ProvenanceStore {
  /** Current provenance of an absolute path, or undefined when none is recorded. */
  get(path: string): StoredProvenance | undefined;
  /** Union `added` into the file's provenance; must be durable before it returns. */
  merge(path: string, added: StoredProvenance): void;
  /** rename: the provenance moves. */
  move(from: string, to: string): void;
  /** copyFile/cp: the destination gets the source's provenance. */
  copy(from: string, to: string): void;
  /** unlink/rm: the provenance is retired. */
  retire(path: string): void;
  close(): void;
}
