/**
 * Revoked resources (TracE2E's deletion). A file URI is revoked when it or any folder above it is
 * listed, so revoking `data/patients/` covers every patient file.
 */
import { fileUri } from '../provenance/resource.js';

export class Revocations {
  private readonly uris: ReadonlySet<string>;

  /** `entries`: absolute paths (this node's files) or URIs, as the config loader normalises them. */
  constructor(
    private readonly node: string,
    entries: readonly string[],
  ) {
    this.uris = new Set(entries.map((entry) => this.normalise(entry)));
  }

  isRevoked(uriOrPath: string): boolean {
    if (this.uris.size === 0) return false;
    const uri = this.normalise(uriOrPath);
    if (this.uris.has(uri)) return true;
    if (!uri.startsWith('file://')) return false;
    // Walk up the folders: file://node/a/b/c → file://node/a/b → file://node/a.
    const root = uri.indexOf('/', 'file://'.length);
    for (let end = uri.lastIndexOf('/'); end > root; end = uri.lastIndexOf('/', end - 1)) {
      if (this.uris.has(uri.slice(0, end))) return true;
    }
    return false;
  }

  /** The first revoked source, if any: the culprit a denial names. */
  firstRevoked(sources: readonly string[]): string | undefined {
    if (this.uris.size === 0) return undefined;
    for (const source of sources) if (this.isRevoked(source)) return source;
    return undefined;
  }

  private normalise(entry: string): string {
    const uri = entry.startsWith('/') ? fileUri(this.node, entry) : entry;
    return uri.length > 1 && uri.endsWith('/') && !uri.endsWith('://') ? uri.replace(/\/+$/, '') : uri;
  }
}
