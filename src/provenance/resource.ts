/**
 * Resources: anything data is read from or written to, named by a URI.
 * Resources are interned so the hot path compares small integer ids; the table is bounded
 * (oldest entries are dropped first) so a server talking to millions of hosts keeps flat memory.
 */
import { basename, resolve } from 'node:path';
import { fileUri, type ProcessRole, type ResourceKind, type StdioStream } from '../config/types.js';
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
  /** Basename of a child process's executable, for `process://<node>/<command>`. */
  readonly command?: string;
  /** This process's stdout or stderr, for `process://<node>/stdout|stderr`. */
  readonly stdio?: StdioStream;
  /**
   * For `stdio`: true when the stream is the operator's console or log pipeline (unlabelled, it
   * takes any data); false when it is read back by an instrumented parent (unlabelled, it gets
   * `defaults`, since the parent cannot learn the labels of what it reads there).
   */
  readonly console?: boolean;
  /** For a process named by its role to this one (`parent`): what config's `match: { process }` sees. */
  readonly role?: ProcessRole;
}

/** Resources kept (~400 bytes each with their labels and URI): about 3 MiB. */
const DEFAULT_CAPACITY = 8192;
/** Resources named in the last little while (the window of a cache admitting repeats). */
const WINDOW = 512;
const URI_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
/** `host:port` or `[v6 address]:port`, nothing else (a path has a slash or no port-like tail). */
const HOST_PORT = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):([0-9]{1,5})$/i;

export class ResourceRegistry {
  /**
   * Evicted resources are simply made again (with a new id): ids are memo keys, never identities on
   * disk. A new resource waits among the last WINDOW new ones (a request naming it again finds the
   * same one) and is kept for long only when it is named again after that: one user's file per
   * request is not held until 8,192 others evict it.
   */
  private readonly byKey: BoundedCache<string, Resource>;
  private nextId = 1;

  constructor(
    readonly node: string,
    capacity = DEFAULT_CAPACITY,
  ) {
    this.byKey = new BoundedCache(capacity, undefined, { admitRepeats: true, window: WINDOW });
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
   * The process that forked this one, at the other end of its IPC channel:
   * `process://<node>/<pid>/parent`, matched in config by role (`match: { process: parent }`), as
   * its own pid is new every run.
   */
  parent(): Resource {
    return (
      this.byKey.get('a') ??
      this.add('a', { uri: `process://${this.node}/${process.pid}/parent`, kind: 'process', pid: process.ppid, role: 'parent' })
    );
  }

  /** A child process, named by its executable's basename (`/usr/bin/convert` → `process://<node>/convert`). */
  command(file: string): Resource {
    const name = basename(file);
    const key = `c${name}`;
    return (
      this.byKey.get(key) ?? this.add(key, { uri: `process://${this.node}/${encodeURIComponent(name)}`, kind: 'process', command: name })
    );
  }

  /** The worker threads of this process (and, in a worker, the thread that started it). */
  worker(): Resource {
    return this.byKey.get('w') ?? this.add('w', { uri: `process://${this.node}/${process.pid}/worker`, kind: 'process', pid: process.pid });
  }

  /** An fd of this process that is not a file (an inherited pipe or socket): an unlabelled destination. */
  descriptor(fd: number): Resource {
    const key = `d${fd}`;
    return (
      this.byKey.get(key) ?? this.add(key, { uri: `process://${this.node}/${process.pid}/fd/${fd}`, kind: 'process', pid: process.pid })
    );
  }

  /** This process's stdout or stderr (see `Resource.console`). */
  stdio(stream: StdioStream, console = true): Resource {
    const key = `o${stream}${console ? '' : '-'}`;
    return this.byKey.get(key) ?? this.add(key, { uri: `process://${this.node}/${stream}`, kind: 'process', stdio: stream, console });
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
        return this.processPath(decodeURIComponent(url.pathname.slice(1)));
      default:
        throw new RangeError(`unsupported resource URI scheme "${scheme}" in ${uriOrPath}`);
    }
  }

  /**
   * `process://<node>/<pid>`, `/stdout`, `/stderr`, `/<pid>/parent` (a parent, which config
   * labels by role whatever the pid), else a command name.
   */
  private processPath(name: string): Resource {
    if (/^[0-9]+$/.test(name)) return this.process(Number(name));
    if (/^[0-9]+\/parent$/.test(name)) return this.parent();
    if (name === 'stdout' || name === 'stderr') return this.stdio(name);
    return this.command(name);
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
