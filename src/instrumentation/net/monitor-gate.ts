/**
 * Where the monitors meet HTTP (kept apart so http-server.ts and http-client.ts each make one call):
 * a request's evidence is read and its monitors decide before the handler runs (a refusal is sent
 * instead, and the handler never runs); the response carries this context's evidence back; an
 * outgoing request to a trusted peer carries it on; the evidence endpoint answers here.
 */
import type http from 'node:http';
import type { FlowEngine } from '../../engine/flow-engine.js';
import type { RequestAction } from '../../engine/attestations.js';
import type { FlowContext } from '../../provenance/context.js';
import { EVIDENCE_HEADER, EVIDENCE_PATH } from '../../monitor/evidence.js';

const ACTION = Symbol('provenant.requestAction');
const STATUS = Symbol('provenant.pendingStatus');
/** Bound on the JSON body kept for `body.<field>` attestations. */
const MAX_BODY_BYTES = 64 * 1024;

interface ActionSlot {
  readonly action: RequestAction;
  body: Buffer[];
  bytes: number;
}

type GatedRequest = http.IncomingMessage & { [ACTION]?: ActionSlot };
type GatedResponse = http.ServerResponse & { [ACTION]?: ActionSlot; [STATUS]?: number };

/**
 * In the request's context, before the app sees the request: true to run the handler now; false
 * when it was answered (a refusal, the evidence endpoint) or will run once evidence is fetched.
 */
export function admitRequest(engine: FlowEngine, req: GatedRequest, res: GatedResponse, handle: () => void): boolean {
  const attestations = engine.attestations;
  if (!attestations.active) return true;
  const method = req.method ?? 'GET';
  const action = attestations.arrive(method, req.url, headerValue(req.headers[EVIDENCE_HEADER]));
  const slot: ActionSlot = { action, body: [], bytes: 0 };
  req[ACTION] = slot;
  res[ACTION] = slot;
  if (action.path === EVIDENCE_PATH && method === 'GET') {
    const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
    const body = attestations.ownFacts(query.get('name') ?? '') ?? '';
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) }).end(body);
    return false;
  }
  if (action.needsBody) keepBody(req, slot);
  const verdict = attestations.admit(action);
  if (verdict === undefined) return true;
  if (!(verdict instanceof Promise)) {
    refuse(res, verdict.body);
    return false;
  }
  const ctx = engine.contexts.current();
  verdict.then(
    (refusal) => engine.contexts.runWith(ctx, () => (refusal === undefined ? handle() : refuse(res, refusal.body))),
    () => engine.contexts.runWith(ctx, handle),
  );
  return false;
}

/** `writeHead(status)`: the status the response is about to get, before Node sets it. */
export function noteStatus(res: GatedResponse, status: unknown): void {
  if (typeof status === 'number' && res[ACTION] !== undefined) res[STATUS] = status;
}

/** Before the response's headers go out: response-time facts, and this context's evidence for the caller. */
export function respondWithEvidence(engine: FlowEngine, res: GatedResponse): void {
  const slot = res[ACTION];
  if (slot === undefined || res.headersSent) return;
  res[ACTION] = undefined;
  const evidence = engine.attestations.respond(slot.action, res[STATUS] ?? res.statusCode, () => parseJson(slot));
  if (evidence !== undefined) res.setHeader(EVIDENCE_HEADER, evidence);
}

/** The evidence header for a request from the current context to a trusted peer (http.request and fetch). */
export function outgoingEvidence(engine: FlowEngine): string | undefined {
  return engine.attestations.active ? engine.attestations.outgoing() : undefined;
}

/** An outgoing `http.request` to a trusted peer carries the context's evidence. */
export function sendEvidence(engine: FlowEngine, req: http.ClientRequest): void {
  if (req.headersSent) return;
  const evidence = outgoingEvidence(engine);
  if (evidence !== undefined) req.setHeader(EVIDENCE_HEADER, evidence);
}

/** Evidence a peer returned with its response (the header's value) joins the calling context. */
export function receiveEvidence(engine: FlowEngine, ctx: FlowContext, value: string | string[] | undefined): void {
  if (engine.attestations.active) engine.attestations.returned(ctx, headerValue(value));
}

function refuse(res: http.ServerResponse, body: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(403, { 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(body) }).end(body);
}

/** Chunks the app reads are copied (up to a bound) without changing how the app reads them. */
function keepBody(req: GatedRequest, slot: ActionSlot): void {
  const emit = req.emit.bind(req) as (event: string | symbol, ...args: unknown[]) => boolean;
  req.emit = function (event: string | symbol, ...args: unknown[]): boolean {
    const chunk = args[0];
    if (event === 'data' && slot.bytes <= MAX_BODY_BYTES && (Buffer.isBuffer(chunk) || typeof chunk === 'string')) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      slot.body.push(buffer);
      slot.bytes += buffer.length;
    }
    return emit(event, ...args);
  } as typeof req.emit;
}

function parseJson(slot: ActionSlot): unknown {
  if (slot.bytes === 0 || slot.bytes > MAX_BODY_BYTES) return undefined;
  try {
    return JSON.parse(Buffer.concat(slot.body).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
