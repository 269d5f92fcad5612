/**
 * The state provenant keeps on a socket it mediates (where it goes, as its connect decided it) and
 * the one decision every byte written to it gets: socket.ts sets the state up at connect and
 * accept, socket-writes.ts decides each write with it, wherever the write enters.
 */
import type net from 'node:net';
import { builtinLoaded } from '../builtin-loads.js';
import type { Attributes } from '@opentelemetry/api';
import type { FlowEngine } from '../../engine/flow-engine.js';
import type { FlowContext } from '../../provenance/context.js';
import type { ProvenanceSet } from '../../provenance/provenance-set.js';
import type { Resource } from '../../provenance/resource.js';
import { AdmittedChunks } from './admitted-chunks.js';
import type { ContextBound } from './context-binding.js';
import { isMediatedWrite } from './mediated-writes.js';

export const SOCKET_FLOW = Symbol('provenant.socketFlow');

export interface SocketFlow {
  /** The destination as named: the dialled name, the HTTP origin, or the caller by address. */
  readonly named: Resource;
  /** The address a lookup resolved the name to, when it is another resource. */
  dialled: Resource | undefined;
  /** Names a resolved address the way `named` is named (tcp, http or https). */
  readonly addressed: ((address: string) => Resource) | undefined;
  readonly options: { attributes: Attributes };
  /** 'data' events are reads (raw sockets; HTTP reads are the HTTP instrumentation's). */
  readonly reads: boolean;
  /** provenant's fetch dispatcher: undici's writes carry requests the interceptor decided. */
  dispatcher: boolean;
  /** Set when the connect was denied: every write fails with it. */
  denial?: Error;
  /** The last allowed write: context, its provenance then, policy epoch. */
  ctx: FlowContext | undefined;
  data: ProvenanceSet | undefined;
  epoch: number;
  /**
   * Chunks allowed where they entered that Node has not written yet: it flushes buffered chunks
   * later, in whatever context completes the previous write, so they are let through by identity
   * instead of being decided again there.
   */
  admitted: AdmittedChunks;
  /** Found on first use (flowOf), not set by a connect or accept, which replace it. */
  derived: boolean;
  /** Another instrumentation's decision for writes to `named` (a child's stdio pipes), instead of the policy's alone. */
  readonly decide?: () => Error | undefined;
}

/** Marks a socket of the app's telemetry (socket.ts): deliberately no flow, and none derived for it. */
export const NO_FLOW = Symbol('provenant.noFlow');

export type FlowSocket = net.Socket & ContextBound & { [SOCKET_FLOW]?: SocketFlow; [NO_FLOW]?: true };

type FlowFields = Pick<SocketFlow, 'named' | 'addressed' | 'options' | 'reads' | 'dispatcher' | 'decide'>;

/** A flow that has decided no write yet. */
export function newSocketFlow(fields: FlowFields): SocketFlow {
  return { ...fields, dialled: undefined, ctx: undefined, data: undefined, epoch: -1, admitted: new AdmittedChunks(), derived: false };
}

/** A flow for another socket on the same connection: the same destination, none of its decisions or chunks. */
export function sameDestination(flow: SocketFlow): SocketFlow {
  return { ...flow, ctx: undefined, data: undefined, epoch: -1, admitted: new AdmittedChunks(), derived: false };
}

/**
 * Stream handles Node opened around a descriptor (`new net.Socket({ fd })`, however the app reached
 * the class), with the resource the descriptor is, until their socket first writes or reads.
 */
const descriptorHandles = new WeakMap<object, Resource>();
let descriptorHandlesNoted = false;
/**
 * The flow of the socket a handle (and, for a TLSWrap, the handle under it) was connected or
 * accepted by: Node points the handle at a new owner when another socket is made around it, so
 * this is what still says where its bytes go.
 */
const handleFlows = new WeakMap<object, SocketFlow>();
/** Names a handle no known socket owns by its descriptor (socket-writes.ts, while provenant is on); undefined for stdio and JS streams. */
let descriptorOf: ((handle: object) => Resource | undefined) | undefined;

type Handle = { _parent?: unknown; _parentWrap?: unknown };

export function noteDescriptorHandle(handle: object, named: Resource): void {
  descriptorHandles.set(handle, named);
  descriptorHandlesNoted = true;
}

export function nameDescriptors(name: ((handle: object) => Resource | undefined) | undefined): void {
  descriptorOf = name;
}

/** Remembers where `socket`'s handle goes (after its connect or accept made or kept one). */
export function noteHandleFlow(socket: FlowSocket, flow: SocketFlow): void {
  const handle = handleOf(socket);
  if (handle === undefined) return;
  handleFlows.set(handle, flow);
  // A TLS socket's TLSWrap writes its records to the TCP or Pipe handle under it, reachable as `_parent`.
  const parent = (handle as Handle)._parent;
  if (typeof parent === 'object' && parent !== null && !handleFlows.has(parent)) handleFlows.set(parent, flow);
}

let Socket: typeof net.Socket | undefined;
/** `value instanceof net.Socket`, without loading node:net: no socket exists before it loads (the network part is enabled then). */
function isSocket(value: unknown): value is net.Socket {
  if (Socket === undefined && builtinLoaded('net')) Socket = process.getBuiltinModule('node:net').Socket;
  return Socket !== undefined && value instanceof Socket;
}

/**
 * Makes `socket` (a child's stdio pipe) a flow to `named` decided by `decide`, so that every way
 * of writing to it (its `write`, the stream prototypes, its handle) gets that decision.
 */

export function decideAs(socket: unknown, named: Resource, attributes: Attributes, decide: () => Error | undefined): void {
  if (!isSocket(socket)) return;
  const flow = newSocketFlow({ named, addressed: undefined, options: { attributes }, reads: false, dispatcher: false, decide });
  (socket as FlowSocket)[SOCKET_FLOW] = flow;
  noteHandleFlow(socket, flow);
}

/**
 * A socket's flow. A socket that neither connected nor was accepted gets one on first use, from
 * its handle: around a handle another socket connected or accepted (`new net.Socket({ handle:
 * other._handle })`, TCP, Pipe or TLSWrap, or a `new tls.TLSSocket(connectedSocket)`), that
 * socket's destination, where the bytes really go and as its own writes are decided; around a
 * descriptor (`new net.Socket({ fd })`) or a handle no known socket owns (made through
 * `process.binding`, handed over from another process), `process://<node>/<pid>/fd/<n>`, an
 * unlabelled destination, as `fs.write` on that fd is. Its reads are reads of it. Stdio, a
 * child's pipes, the app's telemetry and a TLS socket over a JS stream (whose records are written
 * by that stream, decided there) keep no flow.
 */
export function flowOf(socket: FlowSocket): SocketFlow | undefined {
  const flow = socket[SOCKET_FLOW];
  if (flow !== undefined) return flow;
  const handle = handleOf(socket);
  if (handle === undefined || socket[NO_FLOW] === true) return undefined;
  const derived = derivedFlow(handle);
  if (derived === undefined) return undefined;
  handleFlows.set(handle, derived);
  return (socket[SOCKET_FLOW] = derived);
}

function derivedFlow(handle: object): SocketFlow | undefined {
  let named = descriptorHandlesNoted ? descriptorHandles.get(handle) : undefined;
  if (named === undefined) {
    const owned = handleFlows.get(handle) ?? tlsParentFlow(handle);
    // The app writes on it, not provenant's fetch dispatcher: every write is decided.
    if (owned !== undefined) return { ...sameDestination(owned), reads: true, dispatcher: false, derived: true };
    named = descriptorOf?.(handle);
  }
  if (named === undefined) return undefined;
  const attributes = { 'network.transport': 'fd' };
  return { ...newSocketFlow({ named, addressed: undefined, options: { attributes }, reads: true, dispatcher: false }), derived: true };
}

/** A TLSWrap's destination: the socket it was made over (`new tls.TLSSocket(socket)`), else its own handle's. */
function tlsParentFlow(handle: Handle): SocketFlow | undefined {
  const { _parent: parent, _parentWrap: wrap } = handle;
  if (typeof parent !== 'object' || parent === null) return undefined;
  const flow = isSocket(wrap) ? flowOf(wrap) : undefined;
  if (flow !== undefined) return flow;
  return handleFlows.get(parent) ?? derivedFlow(parent);
}

function handleOf(socket: FlowSocket): object | undefined {
  const handle: unknown = (socket as { _handle?: unknown })._handle;
  return typeof handle === 'object' && handle !== null ? handle : undefined;
}

/** The decisions of socket flows, shared by their connect (socket.ts) and their writes (socket-writes.ts). */
export class SocketDecisions {
  /** Sockets already destroyed with their denial: 'error' is emitted once, never twice. */
  private readonly reported = new WeakSet<net.Socket>();

  constructor(readonly engine: FlowEngine) {}

  /** The error a write of the current context to `resource` fails with, or undefined if allowed. */
  denied(flow: SocketFlow, resource: Resource): Error | undefined {
    const decision = this.engine.authorizeWrite(resource, undefined, flow.options);
    return decision.kind === 'deny' ? this.engine.deniedError(decision, resource) : undefined;
  }

  /** Why a write by the current context must not leave on `socket`; memoised per socket (context, provenance, epoch). */
  writeError(flow: SocketFlow): Error | undefined {
    if (flow.denial !== undefined) return flow.denial;
    if (flow.dispatcher || isMediatedWrite()) return undefined;
    const ctx = this.engine.contexts.current();
    const epoch = this.engine.policyEpoch;
    if (flow.ctx === ctx && flow.data === ctx.provenance && flow.epoch === epoch) return undefined;
    const error =
      flow.decide !== undefined
        ? flow.decide()
        : (this.denied(flow, flow.named) ?? (flow.dialled === undefined ? undefined : this.denied(flow, flow.dialled)));
    if (error === undefined) {
      flow.ctx = ctx;
      flow.data = ctx.provenance;
      flow.epoch = epoch;
    }
    return error;
  }

  wasReported(socket: net.Socket): boolean {
    return this.reported.has(socket);
  }

  destroyWithDenial(socket: net.Socket, error: Error): void {
    if (this.reported.has(socket)) return;
    this.reported.add(socket);
    socket.destroy(error);
  }
}
