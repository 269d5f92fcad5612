/**
 * Pure helpers for the node-local store's records: joining two files' provenance (sources
 * union, labels joined by the schema's level order) and the compact text form of a write span.
 * Shared by the SQLite store and its in-memory fallback.
 */
import { diag, type SpanContext } from '@opentelemetry/api';
import { sortedUnique, type LabelSchema, type PublicLabels } from './labels.js';
import type { StoredProvenance } from './store.js';

/**
 * `stored ∪ added`: sources, names and tags/locations union, confidentiality max, integrity min. The
 * last write span wins. Returns `stored` itself when the union adds nothing, so callers can
 * skip the write.
 */
export function joinStored(schema: LabelSchema, stored: StoredProvenance | undefined, added: StoredProvenance): StoredProvenance {
  if (stored === undefined) return normalise(added);
  const sources = sortedUnique([...stored.sources, ...added.sources]);
  const labels: PublicLabels = {
    confidentiality: higherConfidentiality(schema, stored.labels.confidentiality, added.labels.confidentiality),
    integrity: lowerIntegrity(schema, stored.labels.integrity, added.labels.integrity),
    tags: sortedUnique([...stored.labels.tags, ...added.labels.tags]),
    locations: sortedUnique([...stored.labels.locations, ...added.labels.locations]),
  };
  const names = added.names === undefined ? stored.names : sortedUnique([...(stored.names ?? []), ...added.names]);
  if (sameProvenance(stored, sources, labels) && sameStrings(stored.names ?? [], names ?? [])) return stored;
  const joined: StoredProvenance = { sources, labels };
  const writeSpan = added.writeSpan ?? stored.writeSpan;
  if (writeSpan) joined.writeSpan = writeSpan;
  if (names !== undefined) joined.names = names;
  return joined;
}

function normalise(value: StoredProvenance): StoredProvenance {
  const out: StoredProvenance = {
    sources: sortedUnique(value.sources),
    labels: {
      confidentiality: value.labels.confidentiality,
      integrity: value.labels.integrity,
      tags: sortedUnique(value.labels.tags),
      locations: sortedUnique(value.labels.locations),
    },
  };
  if (value.writeSpan) out.writeSpan = value.writeSpan;
  if (value.names) out.names = sortedUnique(value.names);
  return out;
}

function sameProvenance(stored: StoredProvenance, sources: readonly string[], labels: PublicLabels): boolean {
  return (
    stored.labels.confidentiality === labels.confidentiality &&
    stored.labels.integrity === labels.integrity &&
    sameStrings(stored.sources, sources) &&
    sameStrings(stored.labels.tags, labels.tags) &&
    sameStrings(stored.labels.locations, labels.locations)
  );
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// A level name the schema does not know (the config's levels changed since it was stored) is
// treated conservatively: the most confidential, the least trustworthy.
function higherConfidentiality(schema: LabelSchema, a: string, b: string): string {
  const ia = schema.confidentialityLevel(a) ?? Number.MAX_SAFE_INTEGER;
  const ib = schema.confidentialityLevel(b) ?? Number.MAX_SAFE_INTEGER;
  return ib > ia ? b : a;
}

function lowerIntegrity(schema: LabelSchema, a: string, b: string): string {
  const ia = schema.integrityLevel(a) ?? -1;
  const ib = schema.integrityLevel(b) ?? -1;
  return ib < ia ? b : a;
}

/** A level name no schema has: whoever reads it counts it as the most restrictive level. */
export const UNREADABLE_LEVEL = '(unreadable)';

/** The labels of a record that does not have the record's shape (damaged or forged). */
export const UNREADABLE_LABELS: PublicLabels = Object.freeze({
  confidentiality: UNREADABLE_LEVEL,
  integrity: UNREADABLE_LEVEL,
  tags: [],
  locations: [],
});

/**
 * A stored row as the store hands it out. A row that does not have the record's shape (damaged or
 * forged) is not dropped, which would read as "no provenance" and allow what it should deny: it
 * becomes a record of unknown levels, which readers count as the most restrictive ones.
 */
export function parseRecord(
  key: string,
  row: { sources: string; labels: string; write_span: string | null; names: string | null },
): StoredProvenance {
  try {
    const sources = JSON.parse(row.sources) as unknown;
    const labels = readLabels(JSON.parse(row.labels) as unknown);
    const names = row.names === null ? undefined : (JSON.parse(row.names) as unknown);
    if (isStringArray(sources) && labels !== undefined && (names === undefined || isStringArray(names))) {
      const stored: StoredProvenance = { sources, labels };
      const writeSpan = decodeSpan(row.write_span);
      if (writeSpan) stored.writeSpan = writeSpan;
      if (names !== undefined) stored.names = names;
      return stored;
    }
  } catch {
    // Not JSON: handled as any other malformed row below.
  }
  diag.warn(`provenant: the provenance record for ${key} is malformed; it is read as the most restrictive labels`);
  return { sources: [], labels: UNREADABLE_LABELS };
}

/** Parsed JSON that has the shape of stored labels, or undefined. */
export function readLabels(value: unknown): PublicLabels | undefined {
  const labels = value as Partial<Record<keyof PublicLabels, unknown>> | null;
  if (
    labels === null ||
    typeof labels !== 'object' ||
    typeof labels.confidentiality !== 'string' ||
    typeof labels.integrity !== 'string' ||
    !isStringArray(labels.tags) ||
    !isStringArray(labels.locations)
  )
    return undefined;
  return { confidentiality: labels.confidentiality, integrity: labels.integrity, tags: labels.tags, locations: labels.locations };
}

export function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** `<traceId>-<spanId>-<flags>`, like a traceparent without its version. */
export function encodeSpan(span: SpanContext | undefined): string | null {
  if (!span) return null;
  return `${span.traceId}-${span.spanId}-${span.traceFlags.toString(16).padStart(2, '0')}`;
}

export function decodeSpan(text: string | null | undefined): SpanContext | undefined {
  if (!text) return undefined;
  const [traceId, spanId, flags] = text.split('-');
  if (!traceId || !spanId || traceId.length !== 32 || spanId.length !== 16) return undefined;
  return { traceId, spanId, traceFlags: Number.parseInt(flags ?? '0', 16) || 0, isRemote: true };
}

/** True for `path` itself and everything under it when it is a directory. */
export function isSameOrUnder(candidate: string, path: string): boolean {
  return candidate === path || (candidate.startsWith(path) && candidate.charCodeAt(path.length) === 47); /* '/' */
}
