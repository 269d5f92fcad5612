/**
 * Trust boundaries: which hosts may send and receive provenant members (`trust.peers`), and
 * rate-limited warnings about untrusted incoming claims (a flood of forged requests must not
 * flood the log).
 */
import { diag } from '@opentelemetry/api';
import { compileGlob } from '../config/glob.js';
import { normaliseHost } from '../provenance/host.js';
import { BoundedCache } from '../support/bounded-cache.js';

const CACHE_LIMIT = 4096;

export class PeerList {
  private readonly matchers: ((host: string) => boolean)[];
  private readonly cache = new BoundedCache<string, boolean>(CACHE_LIMIT);

  constructor(peers: readonly string[]) {
    this.matchers = peers.map((peer) => {
      const normalised = normaliseHost(peer);
      return /[*?[{]/.test(normalised) ? compileGlob(normalised) : (host: string) => host === normalised;
    });
  }

  /** True when `host` (a name or an IP, as dialled or as seen on the socket) is a trusted peer. */
  includes(host: string | undefined): boolean {
    if (host === undefined || this.matchers.length === 0) return false;
    let trusted = this.cache.get(host);
    if (trusted === undefined) {
      const normalised = normaliseHost(host);
      trusted = this.matchers.some((matches) => matches(normalised));
      this.cache.set(host, trusted);
    }
    return trusted;
  }
}

const WARN_INTERVAL_MS = 60_000;

export class RateLimitedWarnings {
  /** Bounded: reasons are a fixed few today, but a bound keeps it so whatever a caller passes. */
  private readonly lastWarned = new BoundedCache<string, number>(256);

  constructor(private readonly now: () => number = Date.now) {}

  /** diag.warn `message` unless a warning for `reason` was logged in the last minute. */
  warn(reason: string, message: string): void {
    const now = this.now();
    const last = this.lastWarned.get(reason);
    if (last !== undefined && now - last < WARN_INTERVAL_MS) return;
    this.lastWarned.set(reason, now);
    diag.warn(`provenant: ${message} (further "${reason}" warnings suppressed for a minute)`);
  }
}
