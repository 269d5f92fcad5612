/**
 * Verification of journal logs. A log is the segments one process wrote under one origin, read in
 * index order into one Merkle tree: records carry contiguous seq numbers and hashes equal to the
 * leaf hash of their bytes; every checkpoint is a C2SP note of exactly the records before it, signed
 * by the key in the header; a segment ends in a rotation checkpoint before the next one starts.
 * Checkpoints held elsewhere (witness files, cosigned copies) must be signed by the log key and
 * match the tree at their size. What this proves depends on what the caller pins (README "Trust
 * model"): in strict mode (a pinned key or a witness quorum) records no signed checkpoint covers
 * are failures, not warnings.
 */
import { readFileSync, statSync } from 'node:fs';
import { parseCheckpointText, type CheckpointBody } from './checkpoint.js';
import { FORMAT_VERSION, HEADER_PREFIX, RECORD_PREFIX, CHECKPOINT_PREFIX, recordSeq, splitRecordLine } from './format.js';
import type { CheckpointLine, SegmentHeader } from './format.js';
import { logKeyName } from './keys.js';
import { leafHash, MerkleAccumulator } from './merkle.js';
import { checkCosignature, checkNoteSignature, NoteError, parseNote, parseVkey, type Note, type Vkey } from './note.js';
import { forEachLine, listSegments, type SegmentRef } from './read.js';

/** A checkpoint note from outside the journal (a witness, an exported span, an older copy). */
export interface HeldCheckpoint {
  /** Where it came from, for reports (`file:line`). */
  source: string;
  note: Note;
  body: CheckpointBody;
}

export interface VerifyOptions {
  /** Pinned log key (raw Ed25519): every log must be signed by it. */
  publicKey?: Buffer | undefined;
  /** Checkpoints held elsewhere: each log must still contain and match them. */
  held?: readonly HeldCheckpoint[] | undefined;
  /** Witness cosignature keys and how many must have cosigned each log. */
  witnesses?: { keys: readonly Vkey[]; quorum: number } | undefined;
}

export interface Problem {
  file: string;
  /** First sequence number that is missing, altered or not covered by a valid checkpoint. */
  seq: number | null;
  message: string;
}

export type SegmentStatus = 'ok' | 'unclosed' | 'failed';

export interface SegmentReport {
  file: string;
  path: string;
  log: string | null;
  service: string | null;
  pid: number | null;
  index: number | null;
  firstSeq: number | null;
  lastSeq: number | null;
  records: number;
  checkpoints: number;
  vkey: string | null;
  /** The log's closing checkpoint is in this segment (clean shutdown). */
  closed: boolean;
  status: SegmentStatus;
}

export interface LogReport {
  origin: string;
  segments: number;
  records: number;
  /** Records covered by a checkpoint signed by the log key (or written, for unsigned logs). */
  checkpointed: number;
  /** Size of the largest checkpoint with a quorum of valid cosignatures (null without witnesses). */
  witnessed: number | null;
  closed: boolean;
}

export interface VerifyReport {
  ok: boolean;
  segments: SegmentReport[];
  logs: LogReport[];
  records: number;
  failures: Problem[];
  warnings: Problem[];
}

class SegmentFailure extends Error {
  constructor(
    readonly seq: number | null,
    message: string,
  ) {
    super(message);
  }
}

/** Cosigned checkpoints the witness client keeps next to a log's segments: `<log prefix>.cosigned`. */
export function cosignedPath(segmentPath: string): string {
  return segmentPath.replace(/-\d+\.jsonl$/, '.cosigned');
}

export function verifyJournal(stateDirs: readonly string[], options: VerifyOptions = {}): VerifyReport {
  const failures: Problem[] = [];
  const warnings: Problem[] = [];
  const refs: SegmentRef[] = [];
  for (const dir of stateDirs) {
    const missing = stateDirProblem(dir);
    if (missing) {
      failures.push({ file: dir, seq: null, message: missing });
      continue;
    }
    const found = listSegments([dir]);
    if (found.length === 0)
      failures.push({
        file: dir,
        seq: null,
        message: 'no journal segments: nothing here to verify (wrong --state, or the journal was deleted)',
      });
    refs.push(...found);
  }
  const held = new Map<string, HeldCheckpoint[]>();
  for (const h of options.held ?? []) held.set(h.body.origin, [...(held.get(h.body.origin) ?? []), h]);
  const byLog = new Map<string, SegmentRef[]>();
  for (const ref of refs) {
    const key = `${ref.stateDir}\u0000${ref.name.replace(/-\d+\.jsonl$/, '')}`;
    byLog.set(key, [...(byLog.get(key) ?? []), ref]);
  }
  const segments: SegmentReport[] = [];
  const logs: LogReport[] = [];
  const strict = options.publicKey !== undefined || options.witnesses !== undefined;
  for (const chain of byLog.values()) {
    const verifier = new LogVerifier(chain, options, strict, held, failures, warnings);
    const result = verifier.run();
    segments.push(...result.segments);
    if (result.log) logs.push(result.log);
  }
  for (const [origin, checkpoints] of held) {
    const largest = Math.max(...checkpoints.map((c) => c.body.size));
    failures.push({ file: origin, seq: null, message: `log is missing: ${checkpoints[0].source} holds its checkpoint of size ${largest}` });
  }
  return { ok: failures.length === 0, segments, logs, records: segments.reduce((n, s) => n + s.records, 0), failures, warnings };
}

function stateDirProblem(dir: string): string | undefined {
  try {
    return statSync(dir).isDirectory() ? undefined : 'state dir is not a directory';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'state dir does not exist' : `state dir is unreadable (${code ?? String(error)})`;
  }
}

/** Verifies one log's segments in index order against one tree. */
class LogVerifier {
  private readonly tree = new MerkleAccumulator();
  private readonly reports: SegmentReport[] = [];
  private first: SegmentHeader | undefined;
  private vkey: Vkey | undefined;
  private nextSeq = 1;
  /** Records covered by a verified checkpoint. */
  private covered = 0;
  private lastEnd: CheckpointLine['closes'] = null;
  /** Roots of held checkpoints by size, checked as the tree reaches each size. */
  private readonly heldRoots = new Map<number, { root: Buffer; source: string }>();
  private heldMax = 0;
  /** Held checkpoints of this log: the caller's and the witness client's cosigned copy. */
  private readonly candidates: HeldCheckpoint[] = [];

  constructor(
    private readonly chain: readonly SegmentRef[],
    private readonly options: VerifyOptions,
    private readonly strict: boolean,
    private readonly held: Map<string, HeldCheckpoint[]>,
    private readonly failures: Problem[],
    private readonly warnings: Problem[],
  ) {}

  run(): { segments: SegmentReport[]; log: LogReport | undefined } {
    let failedAt: string | undefined;
    for (const ref of this.chain) {
      const report = emptyReport(ref);
      this.reports.push(report);
      if (failedAt !== undefined) {
        report.status = 'failed';
        continue;
      }
      try {
        this.segment(ref, report);
      } catch (error) {
        failedAt = ref.name;
        report.status = 'failed';
        this.failures.push(
          error instanceof SegmentFailure
            ? { file: ref.name, seq: error.seq, message: error.message }
            : { file: ref.name, seq: null, message: `unreadable: ${error instanceof Error ? error.message : String(error)}` },
        );
      }
    }
    const origin = this.first?.log;
    if (origin === undefined) return { segments: this.reports, log: undefined };
    const witnessed = failedAt === undefined ? this.finish() : null;
    return {
      segments: this.reports,
      log: {
        origin,
        segments: this.reports.length,
        records: this.tree.size,
        checkpointed: this.covered,
        witnessed,
        closed: this.lastEnd === 'log',
      },
    };
  }

  private segment(ref: SegmentRef, report: SegmentReport): void {
    let header: SegmentHeader | undefined;
    let ended = false;
    forEachLine(ref.path, (line, terminated) => {
      if (!header) {
        header = this.header(line, ref.name);
        Object.assign(report, {
          log: header.log,
          service: header.service,
          pid: header.pid,
          index: header.index,
          firstSeq: header.firstSeq,
          vkey: header.vkey,
        });
        return;
      }
      if (!terminated && line.length > 0) throw new SegmentFailure(this.nextSeq, 'last line is cut short (truncated file or torn write)');
      if (line.length === 0) {
        if (terminated) throw new SegmentFailure(this.nextSeq, 'empty line inside the segment');
        return;
      }
      if (ended) throw new SegmentFailure(this.nextSeq, `lines after the checkpoint that closes the ${this.lastEnd ?? 'segment'}`);
      if (line.startsWith(RECORD_PREFIX)) {
        this.record(line);
        report.lastSeq = this.nextSeq - 1;
        report.records++;
        return;
      }
      if (line.startsWith(CHECKPOINT_PREFIX)) {
        this.checkpoint(line, header.log);
        report.checkpoints++;
        ended = this.lastEnd !== null;
        report.closed = this.lastEnd === 'log';
        return;
      }
      throw new SegmentFailure(this.nextSeq, 'line is neither a record nor a checkpoint');
    });
    if (!header) {
      if (statSync(ref.path).size > 0) throw new SegmentFailure(null, 'empty segment: no header');
      // A start that could not write its header (a full disk) leaves 0 bytes and no records; a
      // segment emptied after the fact still breaks the chain of the segments after it.
      report.status = 'unclosed';
      this.warnings.push({
        file: ref.name,
        seq: null,
        message: 'empty segment (0 bytes): its process could not write a header; it holds no records',
      });
      return;
    }
    if (!ended) this.lastEnd = null;
    if (!report.closed) report.status = 'unclosed';
  }

  private header(line: string, file: string): SegmentHeader {
    if (!line.startsWith(HEADER_PREFIX)) throw new SegmentFailure(null, 'first line is not a segment header');
    const header = parseJson<SegmentHeader>(line, null, 'header');
    if (header.version !== FORMAT_VERSION)
      throw new SegmentFailure(
        null,
        `segment format version ${String(header.version)} is not ${FORMAT_VERSION}, the one this verifier reads`,
      );
    if (!Number.isSafeInteger(header.firstSeq) || !Number.isSafeInteger(header.index) || typeof header.log !== 'string')
      throw new SegmentFailure(null, 'header lacks log, firstSeq or index');
    if (header.segment !== file)
      throw new SegmentFailure(header.firstSeq, `header names segment ${header.segment} (file renamed or copied over)`);
    const expectedIndex = this.reports.length - 1;
    if (header.index !== expectedIndex)
      throw new SegmentFailure(header.firstSeq, `segment ${header.index} of this log, expected ${expectedIndex}: segment(s) are missing`);
    if (!this.first) {
      this.first = header;
      this.vkey = this.logKey(header);
      this.candidates.push(...(this.held.get(header.log) ?? []), ...readCosigned(this.chain[0].path));
      this.held.delete(header.log);
      for (const h of this.candidates) this.hold(h, this.vkey);
      if (header.afterFailure)
        this.warnings.push({
          file,
          seq: header.firstSeq,
          message: `log opened after a write failure ended log ${header.previousLog ?? '(unknown)'}: that log's last records may be lost`,
        });
    } else {
      if (header.log !== this.first.log || header.vkey !== this.first.vkey || header.afterFailure)
        throw new SegmentFailure(header.firstSeq, 'header does not continue the log of the previous segment');
      if (this.lastEnd !== 'segment')
        throw new SegmentFailure(header.firstSeq, 'the previous segment does not end in a rotation checkpoint (truncated or replaced)');
    }
    if (header.firstSeq !== this.nextSeq)
      throw new SegmentFailure(header.firstSeq, `first seq ${header.firstSeq}, expected ${this.nextSeq}: records are missing or inserted`);
    this.lastEnd = null;
    return header;
  }

  /** The header's verifier key, checked against its names and the pinned key. */
  private logKey(header: SegmentHeader): Vkey | undefined {
    const pinned = this.options.publicKey;
    if (header.vkey === null) {
      if (pinned) throw new SegmentFailure(header.firstSeq, 'log is unsigned but a signing key is expected');
      return undefined;
    }
    let vkey: Vkey;
    try {
      vkey = parseVkey(header.vkey);
    } catch (error) {
      throw new SegmentFailure(header.firstSeq, `header key: ${(error as Error).message}`);
    }
    if (vkey.name !== logKeyName(header.node, header.service) || !header.log.startsWith(vkey.name + '/'))
      throw new SegmentFailure(header.firstSeq, `header key ${vkey.name} does not name this log's node and service`);
    if (pinned && !vkey.publicKey.equals(pinned))
      throw new SegmentFailure(header.firstSeq, `log is signed by key ${vkey.text}, not the expected key`);
    return vkey;
  }

  /** A held checkpoint counts only when the log key signed it; two of one size must agree. */
  private hold(h: HeldCheckpoint, vkey: Vkey | undefined): void {
    if (vkey && checkNoteSignature(h.note, vkey) !== 'valid')
      throw new SegmentFailure(null, `${h.source}: checkpoint of size ${h.body.size} is not signed by the log key`);
    const other = this.heldRoots.get(h.body.size);
    if (other && !other.root.equals(h.body.root))
      throw new SegmentFailure(
        h.body.size + 1,
        `split view: ${other.source} and ${h.source} hold two different checkpoints of size ${h.body.size}, both signed by the log key`,
      );
    this.heldRoots.set(h.body.size, { root: h.body.root, source: h.source });
    this.heldMax = Math.max(this.heldMax, h.body.size);
    if (h.body.origin !== this.first?.log) throw new SegmentFailure(null, `${h.source} is a checkpoint of another log (${h.body.origin})`);
    if (h.body.size === 0) this.checkHeld();
  }

  private record(line: string): void {
    const seq = recordSeq(line);
    if (seq !== this.nextSeq) {
      throw new SegmentFailure(
        this.nextSeq,
        seq === undefined
          ? 'record without a sequence number'
          : `expected seq ${this.nextSeq}, found ${seq} (record deleted, inserted or reordered)`,
      );
    }
    const parts = splitRecordLine(line);
    if (!parts) throw new SegmentFailure(seq, 'record without a hash');
    const leaf = leafHash(parts.canonical);
    if (leaf.toString('hex') !== parts.hash) throw new SegmentFailure(seq, 'record hash does not match its content (record altered)');
    this.tree.push(leaf);
    this.nextSeq++;
    if (this.heldRoots.size > 0) this.checkHeld();
  }

  private checkHeld(): void {
    const held = this.heldRoots.get(this.tree.size);
    if (held && !held.root.equals(this.tree.root()))
      throw new SegmentFailure(
        this.covered + 1,
        `records do not match ${held.source}, a checkpoint of size ${this.tree.size} signed by the log key (records rewritten, or a split view)`,
      );
  }

  private checkpoint(line: string, origin: string): void {
    const parsed = parseJson<CheckpointLine>(line, this.covered + 1, 'checkpoint');
    const bad = (message: string): SegmentFailure =>
      new SegmentFailure(this.covered + 1, `checkpoint at tree size ${this.tree.size}: ${message}`);
    if (typeof parsed.note !== 'string' || !['segment', 'log', null].includes(parsed.closes)) throw bad('malformed checkpoint line');
    let body: CheckpointBody;
    try {
      if (this.vkey) {
        const note = parseNote(parsed.note);
        const signature = checkNoteSignature(note, this.vkey);
        if (signature !== 'valid')
          throw bad(
            signature === 'absent' ? `not signed by the log key ${this.vkey.name}` : 'signature does not verify (forged checkpoint)',
          );
        body = parseCheckpointText(note.text);
      } else {
        body = parseCheckpointText(parsed.note);
      }
    } catch (error) {
      if (error instanceof NoteError) throw bad(error.message);
      throw error;
    }
    if (body.origin !== origin) throw bad(`belongs to log ${body.origin}`);
    if (body.size !== this.tree.size) {
      // Seq numbers are contiguous, so missing records are the last ones; extra ones could be anywhere unverified.
      throw new SegmentFailure(
        body.size > this.tree.size ? this.tree.size + 1 : this.covered + 1,
        `checkpoint at tree size ${body.size}: covers ${body.size} records but ${this.tree.size} precede it (records deleted or inserted)`,
      );
    }
    if (!body.root.equals(this.tree.root())) throw bad('root does not match the records (records altered)');
    this.covered = this.tree.size;
    this.lastEnd = parsed.closes;
  }

  /** End-of-log checks; returns the witnessed size when witnesses are configured. */
  private finish(): number | null {
    const file = this.reports[this.reports.length - 1].file;
    if (this.lastEnd === 'segment')
      this.failures.push({ file, seq: this.nextSeq, message: 'segment ends in a rotation checkpoint but the next segment is missing' });
    if (this.heldMax > this.tree.size)
      this.failures.push({
        file,
        seq: this.nextSeq,
        message: `truncated: ${this.heldRoots.get(this.heldMax)?.source ?? 'a witness'} holds a checkpoint of ${this.heldMax} records, ${this.tree.size} remain`,
      });
    const open = this.tree.size - this.covered;
    if (open > 0) {
      const problem = {
        file,
        seq: this.covered + 1,
        message: `${open} record(s) after the last checkpoint are not covered by any ${this.vkey ? 'signed ' : ''}checkpoint${this.strict ? ' (checkpoints removed, or the process crashed): they prove nothing' : ' and are hash-checked only'}`,
      };
      (this.strict ? this.failures : this.warnings).push(problem);
    }
    if (this.lastEnd !== 'log' && (open === 0 || !this.strict))
      this.warnings.push({ file, seq: null, message: 'no final checkpoint (process still running or crashed)' });
    return this.options.witnesses ? this.witnessed(file) : null;
  }

  /** The largest held checkpoint of this log (already matched to the records) with a quorum of valid cosignatures. */
  private witnessed(file: string): number | null {
    const { keys, quorum } = this.options.witnesses as { keys: readonly Vkey[]; quorum: number };
    let best: number | null = null;
    for (const { source, note, body } of this.candidates) {
      let valid = 0;
      for (const key of keys) {
        const result = checkCosignature(note, key);
        if (result.status === 'invalid')
          this.failures.push({ file, seq: null, message: `${source}: cosignature of ${key.name} does not verify` });
        if (result.status === 'valid') valid++;
      }
      if (valid >= quorum && body.size <= this.tree.size) best = Math.max(best ?? 0, body.size);
    }
    if (best === null)
      this.failures.push({
        file,
        seq: null,
        message: `no checkpoint of this log is cosigned by ${quorum} of the ${keys.length} witness key(s)`,
      });
    else if (best < this.tree.size)
      this.warnings.push({
        file,
        seq: best + 1,
        message: `${this.tree.size - best} record(s) after the last witnessed checkpoint (size ${best})`,
      });
    return best;
  }
}

/** The witness client's latest cosigned checkpoint of a log, if it kept one. */
function readCosigned(segmentPath: string): HeldCheckpoint[] {
  const source = cosignedPath(segmentPath);
  let text: string;
  try {
    text = readFileSync(source, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  try {
    const note = parseNote(text);
    return [{ source, note, body: parseCheckpointText(note.text) }];
  } catch (error) {
    throw new SegmentFailure(null, `${source}: ${(error as Error).message}`);
  }
}

function emptyReport(ref: SegmentRef): SegmentReport {
  return {
    file: ref.name,
    path: ref.path,
    log: null,
    service: null,
    pid: null,
    index: null,
    firstSeq: null,
    lastSeq: null,
    records: 0,
    checkpoints: 0,
    vkey: null,
    closed: false,
    status: 'ok',
  };
}

function parseJson<T>(line: string, seq: number | null, what: string): T {
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new SegmentFailure(seq, `${what} is not valid JSON`);
  }
}
