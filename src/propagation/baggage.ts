/**
 * W3C Baggage (https://www.w3.org/TR/baggage/) list handling: split a header into members, keep
 * members we do not own byte-for-byte, and encode values. Values are percent-encoded only where
 * the spec requires it (outside `baggage-octet`), so URIs stay readable and compact.
 */

/** Limits from the W3C Baggage spec. */
export const BAGGAGE_MAX_MEMBERS = 180;
export const BAGGAGE_MAX_MEMBER_BYTES = 4096;
export const BAGGAGE_MAX_TOTAL_BYTES = 8192;

export interface BaggageMember {
  /** Key as sent (trimmed). */
  readonly key: string;
  /** The member's text as received, trimmed: what pass-through forwards unchanged. */
  readonly raw: string;
}

/** Splits a `baggage` header (or several joined by commas) into members; empty entries are dropped. */
export function splitBaggage(header: string | readonly string[] | undefined): BaggageMember[] {
  if (header === undefined) return [];
  const text = typeof header === 'string' ? header : header.join(',');
  const members: BaggageMember[] = [];
  for (const part of text.split(',')) {
    const raw = part.trim();
    if (raw === '') continue;
    const eq = raw.indexOf('=');
    const key = (eq === -1 ? raw : raw.slice(0, eq)).trim();
    members.push({ key, raw });
  }
  return members;
}

/** The decoded value of a member (properties after `;` are ignored), or undefined when malformed. */
export function memberValue(member: BaggageMember): string | undefined {
  const eq = member.raw.indexOf('=');
  if (eq === -1) return undefined;
  const semicolon = member.raw.indexOf(';', eq);
  const encoded = (semicolon === -1 ? member.raw.slice(eq + 1) : member.raw.slice(eq + 1, semicolon)).trim();
  try {
    return decodeURIComponent(encoded);
  } catch {
    return undefined;
  }
}

/** `key=value` with the value percent-encoded where baggage-octet forbids the character. */
export function formatMember(key: string, value: string): string {
  return `${key}=${encodeBaggageValue(value)}`;
}

/** Every character a baggage-octet (and not '%'): such a value is sent as it is. */
const PLAIN_VALUE = /^[\x21\x23-\x24\x26-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/;
/**
 * A run of characters that are not (baggage-octet: %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E;
 * '%' is escaped so decoding is exact). encodeURIComponent escapes every one of them, UTF-8 per
 * code point, and leaves none of them as it is.
 */
const ESCAPED_RUN = /[^\x21\x23-\x24\x26-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]+/g;

/**
 * The value percent-encoded where needed. Always ASCII, so its UTF-8 byte length is its length.
 * Escaped run by run, not character by character: a source list (URIs joined by newlines) is
 * escaped in a few slices instead of a string built one character at a time.
 */
export function encodeBaggageValue(value: string): string {
  // Most values (labels, ids, signatures) need no escape: one test instead of a replace.
  if (PLAIN_VALUE.test(value)) return value;
  return value.replace(ESCAPED_RUN, encodeURIComponent);
}

export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
