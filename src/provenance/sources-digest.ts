/**
 * The one digest of a source set, wherever a set is named without its list: signed baggage past
 * its budget (`provenant.srcd`), journal set definitions, and capped OTLP log records. One
 * function, so a digest seen on one channel can be checked against another.
 */
import { createHash } from 'node:crypto';

/** `sha256:<hex>` over the sorted source URIs joined by newlines. */
export function sourcesDigest(sources: readonly string[]): string {
  return `sha256:${createHash('sha256').update(sources.join('\n'), 'utf8').digest('hex')}`;
}
