/** The origin of an undici request (`http(s)://host:port`), parsed once per distinct origin. */
import { normaliseHost } from '../../provenance/host.js';
import type { BoundedCache } from '../../support/bounded-cache.js';

export interface Origin {
  protocol: 'http' | 'https';
  host: string;
  port: number;
}

/** undefined for an origin that is not http(s) (undici also serves other schemes through its dispatchers). */
export function originOf(origin: string | URL | undefined, cache: BoundedCache<string, Origin | null>): Origin | undefined {
  if (origin === undefined) return undefined;
  const key = String(origin);
  const cached = cache.get(key);
  if (cached !== undefined) return cached ?? undefined;
  let parsed: Origin | undefined;
  try {
    const url = new URL(key);
    if (url.protocol === 'http:' || url.protocol === 'https:') {
      const protocol = url.protocol === 'https:' ? 'https' : 'http';
      parsed = { protocol, host: normaliseHost(url.hostname), port: Number(url.port) || (protocol === 'https' ? 443 : 80) };
    }
  } catch {
    parsed = undefined;
  }
  cache.set(key, parsed ?? null);
  return parsed;
}
