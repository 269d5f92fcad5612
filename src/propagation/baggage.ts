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

/** The value percent-encoded where needed. Always ASCII, so its UTF-8 byte length is its length. */
export function encodeBaggageValue(value: string): string {
  // Most values (labels, ids, signatures) need no escape: one test instead of a loop per character.
  if (PLAIN_VALUE.test(value)) return value;
  let out = '';
  for (const char of value) {
    const code = char.codePointAt(0) as number;
    // baggage-octet: %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E; '%' is escaped so decoding is exact.
    const allowed = code >= 0x21 && code <= 0x7e && code !== 0x22 && code !== 0x2c && code !== 0x3b && code !== 0x5c && code !== 0x25;
    out += allowed
      ? char
      : encodeURIComponent(char).replace(/[!'()*]/g, (c) => `%${(c.codePointAt(0) as number).toString(16).toUpperCase()}`);
  }
  return out;
}

export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
