/**
 * The canonical form of a host name or IP address, so a destination compares equal however it
 * was written. The OS resolver (inet_aton) and WHATWG URLs read `127.3`, `2130706435`,
 * `0x7f000003` and `127.000.000.003` as 127.0.0.3, and `::ffff:127.0.0.3` reaches the same host:
 * a rule written for the dotted form must see every one of them as that form.
 */
import type Net from 'node:net';

// node:net when first needed: loading it is the first network load, which enables provenant's
// network part (instrumentation/net/index.ts), and a process that never resolves a host needs neither.
let net: typeof Net | undefined;
const netModule = (): typeof Net => (net ??= process.getBuiltinModule('node:net'));

/** Whether `host` is an IPv4 or IPv6 address (net.isIP). */
export function isIpAddress(host: string): boolean {
  return netModule().isIP(host) !== 0;
}

/** A host whose last label is a number (decimal, octal or 0x-hex) is read as an IPv4 address. */
const NUMERIC_LAST_LABEL = /(?:^|\.)(?:0x[0-9a-f]*|[0-9]+)$/;
const IPV4_MAPPED = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;
/** What net.isIPv4 accepts (four decimal bytes, no leading zeros): the config's hosts are read at start, before node:net is needed. */
const DOTTED_QUAD = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** Lower-case, without brackets or a trailing dot; IP literals in their one canonical form. */
export function canonicalHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.') && h.length > 1) h = h.slice(0, -1);
  if (DOTTED_QUAD.test(h)) return h;
  if (h.includes(':')) return canonicalIpv6(h);
  return NUMERIC_LAST_LABEL.test(h) ? (numericIpv4(h) ?? h) : h;
}

/** inet_aton's forms: 1 to 4 parts, each decimal, octal (leading 0) or hex (0x); the last fills the remaining bytes. */
function numericIpv4(host: string): string | undefined {
  const parts = host.split('.');
  if (parts.length > 4) return undefined;
  const values: number[] = [];
  for (const part of parts) {
    const value = numericPart(part);
    if (value === undefined) return undefined;
    values.push(value);
  }
  const last = values.pop() ?? 0;
  if (values.some((value) => value > 255) || last >= 256 ** (4 - values.length)) return undefined;
  let address = last;
  values.forEach((value, i) => (address += value * 256 ** (3 - i)));
  return [address >>> 24, (address >>> 16) & 255, (address >>> 8) & 255, address & 255].join('.');
}

function numericPart(part: string): number | undefined {
  if (/^0x[0-9a-f]*$/.test(part)) return part.length === 2 ? 0 : parseInt(part.slice(2), 16);
  if (/^0[0-7]+$/.test(part)) return parseInt(part.slice(1), 8);
  if (/^(?:0|[1-9][0-9]*)$/.test(part)) return Number(part);
  return undefined;
}

/** Compressed lower-case IPv6; an IPv4-mapped address as its dotted IPv4 (the host it reaches). */
function canonicalIpv6(host: string): string {
  if (!netModule().isIPv6(host)) return host;
  // A zone (`fe80::1%eth0`) is not part of URL syntax: canonicalise the address, keep the zone.
  const zoneAt = host.indexOf('%');
  if (zoneAt !== -1) return `${canonicalIpv6(host.slice(0, zoneAt))}${host.slice(zoneAt)}`;
  const compressed = new URL(`http://[${host}]/`).hostname.slice(1, -1);
  const mapped = IPV4_MAPPED.exec(compressed);
  if (mapped === null) return compressed;
  const high = parseInt(mapped[1], 16);
  const low = parseInt(mapped[2], 16);
  return `${high >>> 8}.${high & 255}.${low >>> 8}.${low & 255}`;
}
