/** The canonical form of a host name or address, so a peer compares equal however it was written. */

/** Lower-case, without IPv6 brackets or the IPv4-mapped prefix (`::ffff:127.0.0.1` is 127.0.0.1). */
export function normaliseHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.startsWith('::ffff:') && h.includes('.')) h = h.slice(7);
  return h;
}
