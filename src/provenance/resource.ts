/**
 * Resources: anything data is read from or written to, named by a URI.
 * Resources are interned so the hot path compares small integer ids; the table is bounded
 * (oldest entries are dropped first) so a server talking to millions of hosts keeps flat memory.
 */
import { resolve } from 'node:path';
import { fileUri, type ResourceKind } from '../config/types.js';
import { BoundedCache } from '../support/bounded-cache.js';
import { normaliseHost } from './host.js';

export { fileUri, type ResourceKind };

export interface Resource {
  /** Small integer, unique for the life of the process (never reused after eviction). */
  readonly id: number;
  readonly uri: string;
  readonly kind: ResourceKind;
  /** Absolute path, for `file`; the socket path, for `unix`. */
  readonly path?: string;
  readonly host?: string;
  readonly port?: number;
  /** Peer service name, for `service`. */
  readonly service?: string;
  /** Location the peer claimed in verified (signed) baggage, for `service`. */
  readonly location?: string;
  readonly pid?: number;
}

const DEFAULT_CAPACITY = 65_536;
const URI_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
/** `host:port` or `[v6 address]:port`, nothing else (a path has a slash or no port-like tail). */
const HOST_PORT = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):([0-9]{1,5})$/i;

export class ResourceRegistry {
  /** Evicted resources are simply made again (with a new id): ids are memo keys, never identities on disk. */
  private readonly byKey: BoundedCache<string, Resource>;
  private nextId = 1;

  constructor(
    readonly node: string,
    capacity = DEFAULT_CAPACITY,
  ) {
    this.byKey = new BoundedCache(capacity);
  }

  get size(): number {
    return this.byKey.size;
  }

  /** `file://<node>/<absolute path>`; `path` must already be absolute and normalised. */
  file(path: string): Resource {
    const key = 'f' + path;
    return this.byKey.get(key) ?? this.add(key, { uri: fileUri(this.node, path), kind: 'file', path });
  }

  tcp(host: string, port: number): Resource {
    const key = `t${host}:${port}`;
    return this.byKey.get(key) ?? this.add(key, { uri: `tcp://${formatHost(host)}:${port}`, kind: 'tcp', host, port });
  }

  /**
   * An incoming caller by address, without its ephemeral port (`tcp://10.0.0.7`): one resource per
   * peer, not one per connection.
   */
  peer(host: string): Resource {
    const key = `c${host}`;
    return this.byKey.get(key) ?? this.add(key, { uri: `tcp://${formatHost(host)}`, kind: 'tcp', host });
  }

  udp(host: string, port: number): Resource {
    const key = `u${host}:${port}`;
    return this.byKey.get(key) ?? this.add(key, { uri: `udp://${formatHost(host)}:${port}`, kind: 'udp', host, port });
  }

  /** A unix-domain socket or named pipe, by its path. */
  unix(path: string): Resource {
    const key = `x${path}`;
    return this.byKey.get(key) ?? this.add(key, { uri: `unix://${path}`, kind: 'unix', path });
  }

  /** The origin of an HTTP(S) destination; the path is kept as a span attribute, not in the URI. */
  http(protocol: 'http' | 'https', host: string, port: number): Resource {
    const key = `${protocol === 'http' ? 'h' : 's'}${host}:${port}`;
    return this.byKey.get(key) ?? this.add(key, { uri: `${protocol}://${formatHost(host)}:${port}`, kind: protocol, host, port });
  }

  /** A peer known by signed baggage; `location` is the location it signed, if any. */
  service(name: string, location?: string): Resource {
    const key = `v${name}\u0000${location ?? ''}`;
    const found = this.byKey.get(key);
    if (found) return found;
    return this.add(
      key,
      location === undefined
        ? { uri: `service://${name}`, kind: 'service', service: name }
        : { uri: `service://${name}`, kind: 'service', service: name, location },
    );
  }

  process(pid: number): Resource {
    const key = `p${pid}`;
    return this.byKey.get(key) ?? this.add(key, { uri: `process://${this.node}/${pid}`, kind: 'process', pid });
  }

  /**
   * Parse what a user names a resource by (CLI, public API): a URI (`scheme://…`), a `host:port`
   * (a TCP origin; `[v6]:port` for IPv6), or else a file path, absolute or relative to `cwd`.
   */
  parse(uriOrPath: string, cwd: string = process.cwd()): Resource {
    if (!URI_SCHEME.test(uriOrPath)) {
      const origin = HOST_PORT.exec(uriOrPath);
      if (origin) return this.tcp(normaliseHost(origin[1]), Number(origin[2]));
      return this.file(resolve(cwd, uriOrPath));
    }
    const url = new URL(uriOrPath);
    const scheme = url.protocol.slice(0, -1);
    switch (scheme) {
      case 'file':
        return this.file(decodeURIComponent(url.pathname));
      case 'tcp':
        return url.port === '' ? this.peer(normaliseHost(url.hostname)) : this.tcp(normaliseHost(url.hostname), Number(url.port));
      case 'udp':
        return this.udp(normaliseHost(url.hostname), Number(url.port));
      case 'unix':
        return this.unix(uriOrPath.slice('unix://'.length));
      case 'http':
      case 'https':
        return this.http(scheme, normaliseHost(url.hostname), Number(url.port || (scheme === 'http' ? 80 : 443)));
      case 'service':
        return this.service(url.hostname);
      case 'process':
        return this.process(Number(url.pathname.slice(1)));
      default:
        throw new RangeError(`unsupported resource URI scheme "${scheme}" in ${uriOrPath}`);
    }
  }

  private add(key: string, fields: Omit<Resource, 'id'>): Resource {
    const resource: Resource = { id: this.nextId++, ...fields };
    this.byKey.set(key, resource);
    return resource;
  }
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
