/**
 * Where the monitors meet HTTP/1 and HTTP/2 (kept apart so the servers and clients each make one
 * call): a request's evidence is read and its monitors decide before the handler runs (a refusal
 * is sent instead, and the handler never runs); the response carries this context's evidence
 * back; an outgoing request to a trusted peer carries it on; the evidence endpoint answers here.
 */
import type { EventEmitter } from 'node:events';
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

/** What holds a request's action until its response (an HTTP/1 response, an HTTP/2 server stream). */
export type ActionHolder = object & { [ACTION]?: ActionSlot; [STATUS]?: number };
type GatedResponse = http.ServerResponse & ActionHolder;

/** Sends a whole answer in place of the handler's (or resets, once the response's headers are out). */
export type Answer = (status: number, contentType: string, body: string) => void;

/** One incoming request as the monitors see it, whatever the protocol. */
export interface GatedRequest {
  readonly method: string;
  readonly url: string | undefined;
  readonly evidence: string | string[] | undefined;
  /** Emits the request body's 'data'. */
  readonly body: EventEmitter;
  /** Keeps the action until the response. */
  readonly holder: ActionHolder;
  readonly answer: Answer;
}

/** An HTTP/1 request: see `admit`. */
export function admitRequest(engine: FlowEngine, req: http.IncomingMessage, res: GatedResponse, handle: () => void): boolean {
  if (!engine.attestations.active) return true;
  const answer: Answer = (status, contentType, body) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) }).end(body);
  };
  const evidence = req.headers[EVIDENCE_HEADER];
  return admit(engine, { method: req.method ?? 'GET', url: req.url, evidence, body: req, holder: res, answer }, handle);
}

/**
 * In the request's context, before the app sees the request: true to run the handler now; false
 * when it was answered (a refusal, the evidence endpoint) or will run once evidence is fetched.
 */
export function admit(engine: FlowEngine, request: GatedRequest, handle: () => void): boolean {
  const attestations = engine.attestations;
  if (!attestations.active) return true;
  const { method, answer } = request;
  const action = attestations.arrive(method, request.url, headerValue(request.evidence));
  const slot: ActionSlot = { action, body: [], bytes: 0 };
  request.holder[ACTION] = slot;
  if (action.path === EVIDENCE_PATH && method === 'GET') {
    const query = new URLSearchParams((request.url ?? '').split('?')[1] ?? '');
    answer(200, 'text/plain', attestations.ownFacts(query.get('name') ?? '') ?? '');
    return false;
  }
  if (action.needsBody) keepBody(request.body, slot);
  const verdict = attestations.admit(action);
  if (verdict === undefined) return true;
  if (!(verdict instanceof Promise)) {
    answer(403, 'application/problem+json', verdict.body);
    return false;
  }
  const ctx = engine.contexts.current();
  verdict.then(
    (refusal) =>
      engine.contexts.runWith(ctx, () => (refusal === undefined ? handle() : answer(403, 'application/problem+json', refusal.body))),
    () => engine.contexts.runWith(ctx, handle),
  );
  return false;
}

/** `writeHead(status)`: the status the response is about to get, before Node sets it. */
export function noteStatus(res: GatedResponse, status: unknown): void {
  if (typeof status === 'number' && res[ACTION] !== undefined) res[STATUS] = status;
}

/** Whether a request's action waits for its response (response-time facts, evidence for the caller). */
export function holdsAction(holder: ActionHolder): boolean {
  return holder[ACTION] !== undefined;
}

/** The response gets `status`: response-time facts are attested; returns this context's evidence for the caller (once). */
export function responseEvidence(engine: FlowEngine, holder: ActionHolder, status: number): string | undefined {
  const slot = holder[ACTION];
  if (slot === undefined) return undefined;
  holder[ACTION] = undefined;
  return engine.attestations.respond(slot.action, status, () => parseJson(slot));
}

/** Before an HTTP/1 response's headers go out: see `responseEvidence`. */
export function respondWithEvidence(engine: FlowEngine, res: GatedResponse): void {
  if (res[ACTION] === undefined || res.headersSent) return;
  const evidence = responseEvidence(engine, res, res[STATUS] ?? res.statusCode);
  if (evidence !== undefined) res.setHeader(EVIDENCE_HEADER, evidence);
}

/** The evidence header for a request from the current context to a trusted peer (http.request, fetch, HTTP/2). */
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

/** Chunks the app reads are copied (up to a bound) without changing how the app reads them. */
function keepBody(req: EventEmitter, slot: ActionSlot): void {
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
