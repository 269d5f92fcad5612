/**
 * The UDP handle's own `send`/`send6`, below dgram's `send`: how dgram hands a datagram to libuv,
 * and what app code reaches through `process.binding('udp_wrap')` or a socket's internal state.
 * Locked (Patcher.lock), so they cannot be put back. A datagram dgram's decided `send` hands down
 * passes when the same context, holding the same data, was allowed to send on that handle to that
 * address (the decision above resolved the name to it: `noteAllowedSend`); any other is decided
 * here as a flow to `udp://<address>:<port>` by address alone — a rule on a host name does not
 * match it, so labelled data a rule lets go only by name is refused (a false deny, never a false
 * allow). A connected handle's send names no address: its peer is the destination. Installed at
 * preload, not when `node:dgram` loads: the binding is reachable without it.
 */
import type { FlowEngine } from '../../engine/flow-engine.js';
import { normaliseHost } from '../../provenance/host.js';
import type { Resource } from '../../provenance/resource.js';
import { isInternal } from '../../support/reentrancy.js';
import { bindingClass, HANDLE_DENIED } from '../native-handles.js';
import type { Patcher } from '../patcher.js';

type HandleSend = (this: object, ...args: unknown[]) => unknown;

/** What one context, holding `data`, was allowed to send to on a handle. */
interface Allowance {
  data: unknown;
  readonly uris: Set<string>;
}

/** The live engine; undefined while provenant is disabled. */
let live: FlowEngine | undefined;
let locked = false;
const allowances = new WeakMap<object, WeakMap<object, Allowance>>();

/** dgram's send decided these destinations for the current context: its datagram may pass on `handle`. */
export function noteAllowedSend(engine: FlowEngine, handle: object | undefined, resources: readonly Resource[]): void {
  if (handle === undefined) return;
  const ctx = engine.contexts.current();
  let byContext = allowances.get(handle);
  if (byContext === undefined) allowances.set(handle, (byContext = new WeakMap()));
  let allowance = byContext.get(ctx);
  if (allowance === undefined || allowance.data !== ctx.provenance) {
    allowance = { data: ctx.provenance, uris: new Set() };
    byContext.set(ctx, allowance);
  }
  for (const resource of resources) allowance.uris.add(resource.uri);
}

export function enableHandleSends(engine: FlowEngine, patcher: Patcher): void {
  live = engine;
  patcher.onRestore(() => {
    live = undefined;
  });
  if (locked) return;
  locked = true;
  const proto = bindingClass('udp_wrap', 'UDP')?.prototype as Record<string, HandleSend> | undefined;
  if (proto === undefined) return;
  for (const name of ['send', 'send6']) {
    const original = proto[name];
    if (typeof original === 'function' && Object.hasOwn(proto, name)) patcher.lock(proto, name, handleSend(original));
  }
}

function handleSend(original: HandleSend): HandleSend {
  return function (this: object, ...args: unknown[]): unknown {
    const engine = live;
    if (engine === undefined || isInternal()) return Reflect.apply(original, this, args);
    const resource = destinationOf(engine, this, args);
    if (resource === undefined) return Reflect.apply(original, this, args);
    const ctx = engine.contexts.current();
    const allowance = allowances.get(this)?.get(ctx);
    if (allowance !== undefined && allowance.data === ctx.provenance && allowance.uris.has(resource.uri))
      return Reflect.apply(original, this, args);
    const attributes = { 'server.address': resource.host ?? '', 'server.port': resource.port ?? 0, 'network.transport': 'udp' };
    const decision = engine.authorizeWrite(resource, undefined, { attributes });
    return decision.kind === 'deny' ? HANDLE_DENIED : Reflect.apply(original, this, args);
  };
}

/** `(req, list, count, port, address, hasCallback)`, or a connected handle's `(req, list, count, hasCallback)`. */
function destinationOf(engine: FlowEngine, handle: object, args: readonly unknown[]): Resource | undefined {
  const [, , , port, address] = args;
  if (typeof port === 'number' && typeof address === 'string') return engine.resources.udp(normaliseHost(address), port);
  const peer: { address?: unknown; port?: unknown } = {};
  const getpeername = (handle as { getpeername?: (out: object) => number }).getpeername;
  if (typeof getpeername !== 'function' || getpeername.call(handle, peer) !== 0) return undefined;
  return typeof peer.address === 'string' && typeof peer.port === 'number'
    ? engine.resources.udp(normaliseHost(peer.address), peer.port)
    : undefined;
}
