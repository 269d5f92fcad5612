/**
 * The state provenant keeps on a socket it mediates (where it goes, as its connect decided it) and
 * the one decision every byte written to it gets: socket.ts sets the state up at connect and
 * accept, socket-writes.ts decides each write with it, wherever the write enters.
 */
import type net from 'node:net';
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
}

/** Marks a socket of the app's telemetry (socket.ts): deliberately no flow, and none derived for it. */
export const TELEMETRY_SOCKET = Symbol('provenant.telemetrySocket');

export type FlowSocket = net.Socket & ContextBound & { [SOCKET_FLOW]?: SocketFlow; [TELEMETRY_SOCKET]?: true };

type FlowFields = Pick<SocketFlow, 'named' | 'addressed' | 'options' | 'reads' | 'dispatcher'>;

/** A flow that has decided no write yet. */
export function newSocketFlow(fields: FlowFields): SocketFlow {
  return { ...fields, dialled: undefined, ctx: undefined, data: undefined, epoch: -1, admitted: new AdmittedChunks() };
}

/**
 * Stream handles Node opened around a descriptor (`new net.Socket({ fd })`, however the app reached
 * the class), with the resource the descriptor is, until their socket first writes or reads.
 */
const descriptorHandles = new WeakMap<object, Resource>();
let descriptorHandlesNoted = false;
/** Names a TCP handle by its descriptor (socket-writes.ts, while provenant is on); undefined for other handles. */
let tcpDescriptor: ((handle: object) => Resource | undefined) | undefined;

export function noteDescriptorHandle(handle: object, named: Resource): void {
  descriptorHandles.set(handle, named);
  descriptorHandlesNoted = true;
}

export function nameTcpDescriptors(name: ((handle: object) => Resource | undefined) | undefined): void {
  tcpDescriptor = name;
}

/**
 * A socket's flow. A socket that neither connected nor was accepted gets one on first use: one
 * around a descriptor (`new net.Socket({ fd })`) or around a TCP handle it did not make (`new
 * net.Socket({ handle: other._handle })`, a socket handed over from another process) goes to
 * `process://<node>/<pid>/fd/<n>`, an unlabelled destination, as `fs.write` on that fd does, and
 * its reads are reads of it. Stdio, a child's pipes and the app's telemetry keep no flow.
 */
export function flowOf(socket: FlowSocket): SocketFlow | undefined {
  const flow = socket[SOCKET_FLOW];
  if (flow !== undefined) return flow;
  const handle: unknown = (socket as { _handle?: unknown })._handle;
  if (typeof handle !== 'object' || handle === null || socket[TELEMETRY_SOCKET] === true) return undefined;
  let named = descriptorHandlesNoted ? descriptorHandles.get(handle) : undefined;
  if (named !== undefined) descriptorHandles.delete(handle);
  else named = tcpDescriptor?.(handle);
  if (named === undefined) return undefined;
  const attributes = { 'network.transport': 'fd' };
  return (socket[SOCKET_FLOW] = newSocketFlow({ named, addressed: undefined, options: { attributes }, reads: true, dispatcher: false }));
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
    const error = this.denied(flow, flow.named) ?? (flow.dialled === undefined ? undefined : this.denied(flow, flow.dialled));
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
