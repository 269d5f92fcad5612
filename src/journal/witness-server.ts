/**
 * A C2SP tlog-witness server: `POST /add-checkpoint` cosigns a checkpoint of a trusted log when it
 * is consistent with the last one this witness cosigned for that origin (tlog-cosignature v1,
 * Ed25519, timestamped), and `GET /<sha256(origin) hex>/checkpoint` serves that latest cosigned
 * checkpoint. A log is trusted through its vkey: the origin must be the key name or extend it
 * with `/…` (provenant names one key per service and one origin per process log). The check of
 * the old size and the saving of the new checkpoint happen in one synchronous step, and the state
 * file is replaced atomically, so two concurrent submissions can never roll a log back.
 */
import { createHash, createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { writeFileAtomically } from '../support/atomic-file.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { parseCheckpointText, type CheckpointBody } from './checkpoint.js';
import { EMPTY_ROOT, verifyConsistency } from './merkle.js';
import {
  checkNoteSignature,
  cosign,
  formatNote,
  formatVkey,
  NoteError,
  parseNote,
  rawPublicKey,
  signatureLine,
  SIG_COSIGNATURE,
  strictBase64,
  type Note,
  type Vkey,
} from './note.js';
import { parseAddCheckpoint, SIZE_CONTENT_TYPE } from './tlog-witness.js';

export interface WitnessOptions {
  stateDir: string;
  name: string;
  /** Vkeys of the logs this witness accepts. */
  logKeys: readonly Vkey[];
  /** POSIX seconds for cosignature timestamps (injectable for tests). */
  now?: () => bigint;
}

interface Stored {
  size: number;
  root: string;
  /** The checkpoint as cosigned: the log's signature(s) and this witness's. */
  note: string;
}

const MAX_BODY_BYTES = 64 * 1024;

export class WitnessServer {
  readonly vkey: Vkey;
  private readonly key: KeyObject;
  private readonly statePath: string;
  private readonly state: Record<string, Stored>;
  private readonly now: () => bigint;

  constructor(private readonly options: WitnessOptions) {
    mkdirSync(options.stateDir, { recursive: true });
    this.key = loadOrCreateKey(join(options.stateDir, 'witness-key.pem'));
    this.vkey = formatVkey(options.name, SIG_COSIGNATURE, rawPublicKey(this.key));
    this.statePath = join(options.stateDir, 'checkpoints.json');
    this.state = readState(this.statePath);
    this.now = options.now ?? (() => BigInt(Math.floor(Date.now() / 1000)));
  }

  listen(port: number, host: string): Promise<Server> {
    const server = createServer((request, response) => this.handle(request, response));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve(server));
    });
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    let bytes = 0;
    request.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () => {
      if (bytes > MAX_BODY_BYTES) return reply(response, 400, 'request body too large\n');
      const url = request.url ?? '/';
      if (request.method === 'POST' && url === '/add-checkpoint')
        return this.addCheckpoint(Buffer.concat(chunks).toString('utf8'), response);
      const monitored = /^\/([0-9a-f]{64})\/checkpoint$/.exec(url);
      if (request.method === 'GET' && monitored) return this.checkpoint(monitored[1], response);
      reply(response, 404, 'not found\n');
    });
  }

  /** tlog-witness add-checkpoint: 400 malformed, 404 unknown origin, 403 unsigned or bad signature, 409 old size, 422 inconsistent. */
  private addCheckpoint(body: string, response: ServerResponse): void {
    let note: Note;
    let checkpoint: CheckpointBody;
    let request: ReturnType<typeof parseAddCheckpoint>;
    try {
      request = parseAddCheckpoint(body);
      note = parseNote(request.note);
      checkpoint = parseCheckpointText(note.text);
    } catch (error) {
      return reply(response, 400, `${error instanceof NoteError ? error.message : 'malformed request'}\n`);
    }
    const keys = this.options.logKeys.filter((k) => k.name === checkpoint.origin || checkpoint.origin.startsWith(k.name + '/'));
    if (keys.length === 0) return reply(response, 404, 'unknown log origin\n');
    const results = keys.map((k) => checkNoteSignature(note, k));
    if (results.includes('invalid')) return reply(response, 403, 'a signature from a trusted log key does not verify\n');
    if (!results.includes('valid')) return reply(response, 403, 'not signed by a trusted log key\n');
    if (request.oldSize > checkpoint.size) return reply(response, 400, 'old size is larger than the checkpoint size\n');
    const stored = this.state[checkpoint.origin];
    const storedSize = stored?.size ?? 0;
    if (request.oldSize !== storedSize) return reply(response, 409, `${storedSize}\n`, SIZE_CONTENT_TYPE);
    if (checkpoint.size === 0 && !checkpoint.root.equals(EMPTY_ROOT))
      return reply(response, 422, 'a tree of size 0 must have the empty root\n');
    const consistent =
      request.oldSize === 0
        ? request.proof.length === 0
        : verifyConsistency(request.oldSize, checkpoint.size, Buffer.from(stored?.root ?? '', 'base64'), checkpoint.root, request.proof);
    if (!consistent) return reply(response, 422, 'the consistency proof does not verify against the checkpoint this witness holds\n');
    const cosignature = cosign(note.text, this.options.name, this.key, this.now());
    const kept = formatNote({ text: note.text, signatures: [...note.signatures, cosignature] });
    try {
      this.save(checkpoint.origin, { size: checkpoint.size, root: checkpoint.root.toString('base64'), note: kept });
    } catch (error) {
      return reply(response, 500, `cannot save the witness state: ${(error as Error).message}\n`);
    }
    reply(response, 200, signatureLine(cosignature));
  }

  private checkpoint(originHash: string, response: ServerResponse): void {
    const origin = Object.keys(this.state).find((o) => createHash('sha256').update(o).digest('hex') === originHash);
    if (origin === undefined) return reply(response, 404, 'no checkpoint cosigned for this log\n');
    reply(response, 200, this.state[origin].note);
  }

  /** Saved before the reply, through a temporary file and a rename: never half written. */
  private save(origin: string, entry: Stored): void {
    const next = { ...this.state, [origin]: entry };
    writeFileAtomically(this.statePath, JSON.stringify(next, null, 1));
    this.state[origin] = entry;
  }
}

function reply(response: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

function loadOrCreateKey(path: string): KeyObject {
  try {
    return createPrivateKey(readFileSync(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  writeFileSync(path, pem, { mode: 0o600, flag: 'wx' });
  return createPrivateKey(pem);
}

function readState(path: string): Record<string, Stored> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  const value = JSON.parse(text) as unknown;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${path} is not a witness state file`);
  const state: Record<string, Stored> = {};
  for (const [origin, entry] of Object.entries(value as Record<string, unknown>)) {
    const { size, root, note } = (entry ?? {}) as Partial<Record<keyof Stored, unknown>>;
    if (!Number.isSafeInteger(size) || typeof root !== 'string' || strictBase64(root)?.length !== 32 || typeof note !== 'string')
      throw new Error(`${path}: the entry for ${origin} is not a cosigned checkpoint (damaged state file)`);
    state[origin] = { size: size as number, root, note };
  }
  return state;
}
