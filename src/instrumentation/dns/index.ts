/**
 * DNS: a query name can carry data out (`<secret>.attacker.example`), so a query the app makes
 * itself (`dns.lookup`, `dns.resolve*`, `dns.reverse`, `dns.lookupService`, `dns.promises`, a
 * `Resolver`) is a write flow to the resolver, `udp://<first configured server>:53`, decided with
 * the querying context: by default a labelled context may not query an unlabelled resolver
 * (README "What is covered"). A lookup Node runs inside a decided flow (a connect, a UDP send) is
 * not a query of its own (internal-lookups.ts), nor is `lookup` of an IP literal, which getaddrinfo
 * answers without asking anyone (clients look up the address they are about to dial).
 */
import type { FlowEngine } from '../../engine/flow-engine.js';
import type { Resource } from '../../provenance/resource.js';
import { normaliseHost } from '../../provenance/host.js';
import { isIpAddress } from '../../support/host-address.js';
import { NETWORK_BUILTINS, whenFirstLoaded } from '../builtin-loads.js';
import type { Instrumentation, InstrumentationContext } from '../instrumentation.js';
import { isInternalLookup } from '../internal-lookups.js';
import type { GrpcTelemetry } from '../net/grpc-telemetry.js';
import { Patcher, type NativeFunction } from '../patcher.js';

const QUERIES = [
  'lookup',
  'lookupService',
  'resolve',
  'resolve4',
  'resolve6',
  'resolveAny',
  'resolveCaa',
  'resolveCname',
  'resolveMx',
  'resolveNaptr',
  'resolveNs',
  'resolvePtr',
  'resolveSoa',
  'resolveSrv',
  'resolveTlsa',
  'resolveTxt',
  'reverse',
];
const DNS_PORT = 53;
/** What grpc-js's DNS resolver asks (addresses, service config), with its alternative resolver too. */
const GRPC_QUERIES: ReadonlySet<string> = new Set(['lookup', 'resolve4', 'resolve6', 'resolveTxt']);

interface ServerList {
  getServers(): string[];
}

export class DnsInstrumentation implements Instrumentation {
  readonly name = 'dns';
  private readonly patcher = new Patcher();

  enable(context: InstrumentationContext): void {
    // As the first network built-in loads (builtin-loads.ts), not at preload.
    whenFirstLoaded(this.patcher, NETWORK_BUILTINS, () => this.patch(context));
  }

  private patch(context: InstrumentationContext): void {
    const dns = process.getBuiltinModule('node:dns');
    const engine = context.engine;
    const grpc = context.grpcTelemetry;
    const itself = (self: unknown): ServerList => self as ServerList;
    for (const name of QUERIES) {
      const query: Query = { engine, local: name === 'lookup' ? isIpLiteral : () => false };
      const callbacks = (resolver: (self: unknown) => ServerList) => (original: NativeFunction) =>
        decidedCallbackQuery(query, original, resolver);
      const promises = (resolver: (self: unknown) => ServerList) => (original: NativeFunction) =>
        decidedPromiseQuery(query, original, resolver);
      this.patcher.wrapMethod(
        dns,
        name,
        callbacks(() => dns),
      );
      this.patcher.wrapMethod(dns.Resolver.prototype, name, callbacks(itself));
      const exporters = GRPC_QUERIES.has(name);
      const promiseQuery = (resolver: (self: unknown) => ServerList) => (original: NativeFunction) =>
        exporters ? exporterQuery(grpc, promises(resolver)(original), original) : promises(resolver)(original);
      this.patcher.wrapMethod(
        dns.promises,
        name,
        promiseQuery(() => dns.promises),
      );
      this.patcher.wrapMethod(dns.promises.Resolver.prototype, name, promiseQuery(itself));
    }
  }

  disable(): void {
    this.patcher.restoreAll();
  }
}

/** One query method: the engine that decides it, and which names it answers without a query. */
interface Query {
  engine: FlowEngine;
  local: (name: unknown) => boolean;
}

function isIpLiteral(name: unknown): boolean {
  return typeof name === 'string' && isIpAddress(name);
}

/** Why this query must not be made now, or undefined. */
function queryDenial({ engine, local }: Query, resolver: ServerList, name: unknown): Error | undefined {
  if (isInternalLookup() || local(name)) return undefined;
  const resource = resolverResource(engine, resolver);
  const decision = engine.authorizeWrite(resource, undefined, {
    attributes: { 'dns.question.name': String(name), 'server.address': resource.host ?? '', 'server.port': DNS_PORT },
  });
  return decision.kind === 'deny' ? engine.deniedError(decision, resource) : undefined;
}

function resolverResource(engine: FlowEngine, resolver: ServerList): Resource {
  const first = resolver.getServers()[0] ?? 'system';
  // getServers() gives `address` or `[v6]:port` / `v4:port` when the port is not 53.
  const match = /^\[(.+)\]:(\d+)$/.exec(first) ?? /^([^:]+):(\d+)$/.exec(first);
  return match ? engine.resources.udp(normaliseHost(match[1]), Number(match[2])) : engine.resources.udp(normaliseHost(first), DNS_PORT);
}

function decidedCallbackQuery(query: Query, original: NativeFunction, resolver: (self: unknown) => ServerList): NativeFunction {
  return function (this: unknown, ...args: never[]): unknown {
    const error = queryDenial(query, resolver(this), args[0]);
    if (error === undefined) return Reflect.apply(original, this, args) as unknown;
    const callback = (args as unknown[]).findLast((arg) => typeof arg === 'function');
    // Without a callback Node throws its own argument error; a denial is thrown the same way.
    if (typeof callback !== 'function') throw error;
    process.nextTick(callback, error);
    return undefined;
  };
}

/**
 * grpc-js's resolver asking about the collector the operator named (the app's OTLP/gRPC exporter,
 * grpc-telemetry.ts) is not a query flow; the addresses it gets are remembered as the collector's.
 */
function exporterQuery(grpc: GrpcTelemetry, decided: NativeFunction, original: NativeFunction): NativeFunction {
  return function (this: unknown, ...args: never[]): unknown {
    const hostname: unknown = args[0];
    if (!grpc.isResolverLookup(hostname)) return Reflect.apply(decided, this, args) as unknown;
    return (Reflect.apply(original, this, args) as Promise<unknown>).then((result) => {
      grpc.noteResolved(hostname as string, result);
      return result;
    });
  };
}

function decidedPromiseQuery(query: Query, original: NativeFunction, resolver: (self: unknown) => ServerList): NativeFunction {
  return function (this: unknown, ...args: never[]): unknown {
    const error = queryDenial(query, resolver(this), args[0]);
    return error === undefined ? (Reflect.apply(original, this, args) as unknown) : Promise.reject(error);
  };
}
