/**
 * A message between threads that carries its sender context's labels: the value wrapped with the
 * labels and sources it derives from. Only sent to threads known to run provenant (which unwrap
 * it before app code sees it); the wrapper is plain data so the structured clone keeps it.
 */
import type { PublicLabels } from '../../provenance/labels.js';

const MARKER = '@@provenant.labelled';

export interface LabelledMessage {
  readonly [MARKER]: 1;
  readonly labels: PublicLabels;
  readonly sources: readonly string[];
  readonly value: unknown;
}

export function labelled(value: unknown, labels: PublicLabels, sources: readonly string[]): LabelledMessage {
  return { [MARKER]: 1, labels, sources, value };
}

export function isLabelled(data: unknown): data is LabelledMessage {
  if (typeof data !== 'object' || data === null) return false;
  const message = data as Partial<LabelledMessage>;
  return message[MARKER] === 1 && typeof message.labels === 'object' && message.labels !== null && Array.isArray(message.sources);
}
