/**
 * The journal writer: one per process. `append` serialises a flow event, hashes it into the
 * log's Merkle tree and buffers the line; the buffer is written at most
 * `flushIntervalMs` later by an unref'd timer (or at once when it grows past MAX_PENDING_BYTES,
 * or on every append with `sync: 'always'`, which also fsyncs). One tree per log runs on across
 * rotated segments, and checkpoints are C2SP signed notes of it. A worker thread's writer writes
 * through (`writeThrough`) and leaves its creator what closes its log (`handoff`). Errors never escape: a failed
 * write is one diag warning, the lines in flight are counted in `lostRecords`, and the writer
 * retries in a new log (a new origin) at most once per RETRY_MS. Over 250 lines because the
 * buffer, the tree, rotation, the retry and the thread's handoff are one writer's state, changed
 * together on every append; record formatting and segment files are already their own modules.
 */
import { diag } from '@opentelemetry/api';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { JournalConfig } from '../config/types.js';
import type { FlowRecord } from '../engine/flow-record.js';
import { checkpointText } from './checkpoint.js';
import { checkpointLine, fileService, FORMAT_VERSION, type CheckpointEnd, type SegmentHeader } from './format.js';
import { logKeyName, logVkey, type SigningKey } from './keys.js';
import { MerkleAccumulator, type Hash } from './merkle.js';
import { formatNote, signNoteText } from './note.js';
import { SegmentFile } from './segment-file.js';
import type { LogClosing, WriterHandoff } from './thread-handoff.js';
import { linesFor } from './record-lines.js';
import { RecentRecords } from './occurrences.js';
import { SegmentFlows } from './segment-flows.js';
import { SegmentSets } from './segment-sets.js';

export interface JournalOptions {
  stateDir: string;
  config: JournalConfig;
  service: string;
  node: string;
  pid: number;
  /** The log key (PROVENANT_JOURNAL_KEY, loaded by the caller: an unusable key stops the start). */
  signingKey?: SigningKey | undefined;
  /** Called with every checkpoint written (spans, witnesses); must not throw. */
  onCheckpoint?: ((checkpoint: WrittenCheckpoint) => void) | undefined;
  /**
   * Write each line as it is made (no fsync unless `sync: 'always'`). For worker threads:
   * `terminate()` stops a thread's JavaScript with no exit event, so a buffered line would be lost.
   */
  writeThrough?: boolean | undefined;
  /**
   * A thread's share with its creator (thread-handoff.ts): every change of the log happens while
   * the creator cannot close it, and leaves the note that closes the log as it now is.
   */
  handoff?: WriterHandoff | undefined;
}

export interface WrittenCheckpoint {
  origin: string;
  size: number;
  root: Hash;
  /** The signed note (or the bare checkpoint text when unsigned), byte for byte as in the segment. */
  note: string;
  closes: CheckpointEnd;
  /** Roots of the perfect subtrees at this size: with later leaves they give consistency proofs. */
  peaks: readonly Hash[];
  /** Segment files of this log so far, oldest first (where later leaves can be read back). */
  segments: readonly string[];
}

export interface JournalWriter {
  append(record: FlowRecord): void;
  /** Writes buffered lines now (synchronously; safe in a process 'exit' handler). */
  flushSync(): void;
  /** Final checkpoint, flush and fsync; later appends are counted as lost. */
  close(): void;
  /** Checkpoints the log now and returns the checkpoint. */
  checkpoint(): WrittenCheckpoint;
  /** Records that could not be written (unwritable directory, full disk, appends after close). */
  readonly lostRecords: number;
  /** The origin of the log being written (undefined while a deferred writer has not opened). */
  readonly origin: string | undefined;
}

/** Past this many buffered bytes, append writes at once: memory stays bounded under any load. */
const MAX_PENDING_BYTES = 1 << 20;
const RETRY_MS = 1_000;
/** Room kept for the checkpoint lines (a periodic and the final one) so segments stay under segmentMaxBytes. */
const CHECKPOINT_RESERVE = 2 * 512;

/** One log: an origin and its tree, across segments. */
interface Log {
  origin: string;
  prefix: string;
  tree: MerkleAccumulator;
  segments: string[];
}

interface Segment {
  name: string;
  index: number;
  file: SegmentFile | undefined;
  /** Source sets defined in this segment (a segment is readable alone: nothing refers to another). */
  sets: SegmentSets;
  /** Flows seen and defined in this segment (the same rule). */
  flows: SegmentFlows;
  /** The last records' time, traces and attribute values, which occurrences repeat by reference (the same rule). */
  recent: RecentRecords;
  /** Leaves in this segment: records and set definitions. */
  records: number;
  sinceCheckpoint: number;
}

export function openJournal(options: JournalOptions): JournalWriter {
  return new Writer(options);
}

class Writer implements JournalWriter {
  lostRecords = 0;

  private readonly dir: string;
  private readonly config: JournalConfig;
  private readonly key: SigningKey | undefined;
  private readonly startedMs = Date.now();
  private readonly keyName: string;
  private log: Log;
  private segment: Segment;
  private pending: string[] = [];
  private pendingBytes = 0;
  private pendingRecords = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private failedAt: number | undefined;
  private warned = false;
  private closed = false;
  private handoff: WriterHandoff | undefined;
  /** Inside a change made under the handoff (changes nest: append → checkpoint → flush). */
  private holding = false;
  /** The creator closed this log: the next record starts a new one. */
  private closedByCreator = false;

  constructor(private readonly options: JournalOptions) {
    this.dir = join(options.stateDir, 'journal');
    this.config = options.config;
    this.key = options.signingKey;
    this.handoff = options.handoff;
    this.keyName = logKeyName(options.node, options.service);
    this.log = this.newLog();
    this.segment = this.startSegment(0, false, null);
  }

  /** A log id unique per process start and log: pid, start time and random bits. */
  private newLog(): Log {
    const id = `${this.options.pid}-${this.startedMs}-${randomBytes(3).toString('hex')}`;
    return {
      origin: `${this.keyName}/${id}`,
      prefix: `${fileService(this.options.service)}-${id}`,
      tree: new MerkleAccumulator(),
      segments: [],
    };
  }

  get origin(): string {
    return this.log.origin;
  }

  append(record: FlowRecord): void {
    this.exclusive(() => this.appendNow(record));
  }

  private appendNow(record: FlowRecord): void {
    try {
      if (this.closedByCreator) {
        this.closedByCreator = false;
        this.log = this.newLog();
        this.segment = this.startSegment(0, false, null);
      }
      if (this.closed || (this.failedAt !== undefined && !this.recover())) {
        this.lostRecords++;
        return;
      }
      let lines = linesFor(this.segment, this.log.tree.size + 1, record);
      if (this.segment.records > 0 && this.segmentBytes() + lines.bytes + CHECKPOINT_RESERVE > this.config.segmentMaxBytes) {
        this.rotate();
        if (this.failedAt !== undefined) {
          this.lostRecords++;
          return;
        }
        // The new segment has defined no set yet.
        lines = linesFor(this.segment, this.log.tree.size + 1, record);
      }
      for (const leaf of lines.leaves) this.log.tree.push(leaf);
      if (lines.setRef !== undefined) this.segment.sets.remember(record.sources, lines.setRef, lines.digest);
      const flow = lines.flow;
      if (flow?.seq !== undefined) this.segment.flows.defined(flow.key, flow.labels, record.policy, flow.seq, record.attributes);
      else if (flow !== undefined) this.segment.flows.seen(flow.key, flow.labels, record.policy);
      this.segment.recent.remember(lines.recent);
      this.segment.records += lines.leaves.length;
      this.segment.sinceCheckpoint += lines.leaves.length;
      this.buffer(lines.text, 1, lines.bytes);
      if (this.segment.sinceCheckpoint >= this.config.checkpointEvery) this.checkpoint();
      else this.scheduleCheckpoint();
      if (this.config.sync === 'always' || this.pendingBytes >= MAX_PENDING_BYTES) this.flush(this.config.sync === 'always');
      else this.scheduleFlush();
    } catch (error) {
      this.lostRecords++;
      this.warn('could not journal a flow', error);
    }
  }

  flushSync(): void {
    this.exclusive(() => {
      try {
        this.flush(this.config.sync === 'always');
      } catch (error) {
        this.warn('journal flush failed', error);
      }
    });
  }

  checkpoint(): WrittenCheckpoint {
    return this.exclusive(() => this.writeCheckpoint(null));
  }

  close(): void {
    if (this.closed) return;
    this.exclusive(() => {
      try {
        this.writeCheckpoint('log');
        this.flush(true);
        this.segment.file?.close(true);
      } catch (error) {
        this.warn('journal close failed', error);
      } finally {
        this.closed = true;
        clearTimeout(this.flushTimer);
        clearTimeout(this.checkpointTimer);
      }
    });
  }

  /**
   * Runs a change of the log while the creator cannot close it, then leaves the creator the note
   * that closes the log as the change left it. Without a handoff (the main thread), just runs it.
   */
  private exclusive<T>(change: () => T): T {
    const handoff = this.handoff;
    if (handoff === undefined || this.holding) return change();
    if (!handoff.acquire()) {
      // Closed by the creator (its process is exiting): nothing may follow that checkpoint.
      this.handoff = undefined;
      this.segment.file?.close(false);
      this.segment.file = undefined;
      this.closedByCreator = true;
      return change();
    }
    this.holding = true;
    try {
      return change();
    } finally {
      this.holding = false;
      handoff.release(this.closing());
    }
  }

  /** What closes the log now: null once closed here; undefined while nothing can close it (no file, lines unwritten). */
  private closing(): LogClosing | undefined | null {
    if (this.closed) return null;
    const file = this.segment.file;
    if (file === undefined || this.pending.length > 0) return undefined;
    const log = this.log;
    return {
      path: file.path,
      size: file.size,
      origin: log.origin,
      keyName: this.keyName,
      publicKey: this.key?.publicKey ?? null,
      treeSize: log.tree.size,
      peaks: log.tree.peaks(),
    };
  }

  private signedNote(): { root: Hash; note: string } {
    const root = this.log.tree.root();
    const text = checkpointText({ origin: this.log.origin, size: this.log.tree.size, root });
    return { root, note: this.key ? formatNote({ text, signatures: [signNoteText(text, this.keyName, this.key.privateKey)] }) : text };
  }

  private buffer(line: string, records: number, bytes = Buffer.byteLength(line)): void {
    this.pending.push(line);
    this.pendingBytes += bytes;
    this.pendingRecords += records;
  }

  /** Bytes of the current segment, written or buffered (pending lines always belong to it). */
  private segmentBytes(): number {
    return (this.segment.file?.size ?? 0) + this.pendingBytes;
  }

  private writeCheckpoint(closes: CheckpointEnd): WrittenCheckpoint {
    const log = this.log;
    const { root, note } = this.signedNote();
    const checkpoint: WrittenCheckpoint = {
      origin: log.origin,
      size: log.tree.size,
      root,
      note,
      closes,
      peaks: log.tree.peaks(),
      segments: [...log.segments],
    };
    this.segment.sinceCheckpoint = 0;
    clearTimeout(this.checkpointTimer);
    this.checkpointTimer = undefined;
    // A checkpoint of a segment that cannot be written is not evidence of anything: not shared.
    if (!this.segment.file || this.closed) return checkpoint;
    this.buffer(checkpointLine({ time: new Date().toISOString(), closes, note }) + '\n', 0);
    // Listeners (OpenLineage, witnesses) read the checkpoint's records from the file in other
    // threads: what they read must be on it, or they would skip those records until the next one.
    this.flushSync();
    try {
      this.options.onCheckpoint?.(checkpoint);
    } catch (error) {
      this.warn('journal checkpoint listener failed', error);
    }
    return checkpoint;
  }

  private flush(sync: boolean): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pending.length === 0) return;
    const text = this.pending.join('');
    const records = this.pendingRecords;
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingRecords = 0;
    const file = this.segment.file;
    if (!file) {
      this.lostRecords += records;
      return;
    }
    try {
      file.write(text, sync);
    } catch (error) {
      this.lostRecords += records;
      file.discard();
      this.segment.file = undefined;
      this.fail(error);
    }
  }

  /** A checkpoint closing the full segment; the log goes on in the next one. */
  private rotate(): void {
    this.writeCheckpoint('segment');
    this.flush(this.config.sync === 'always');
    const previous = this.segment;
    previous.file?.close(this.config.sync === 'always');
    if (this.failedAt !== undefined) return;
    this.segment = this.startSegment(previous.index + 1, false, null);
  }

  private startSegment(index: number, afterFailure: boolean, previousLog: string | null): Segment {
    const log = this.log;
    const name = `${log.prefix}-${String(index).padStart(6, '0')}.jsonl`;
    const header: SegmentHeader = {
      type: 'header',
      version: FORMAT_VERSION,
      segment: name,
      log: log.origin,
      service: this.options.service,
      node: this.options.node,
      pid: this.options.pid,
      started: new Date(this.startedMs).toISOString(),
      index,
      firstSeq: log.tree.size + 1,
      afterFailure,
      previousLog,
      vkey: this.key ? logVkey(this.options.node, this.options.service, this.key.publicKey).text : null,
      frontier: log.tree.peaks().map((peak) => peak.toString('hex')),
    };
    const segment: Segment = {
      name,
      index,
      file: undefined,
      sets: new SegmentSets(),
      flows: new SegmentFlows(),
      recent: new RecentRecords(this.startedMs),
      records: 0,
      sinceCheckpoint: 0,
    };
    try {
      segment.file = SegmentFile.create(this.dir, name);
      log.segments.push(segment.file.path);
      segment.file.write(JSON.stringify(header) + '\n', this.config.sync === 'always');
      this.failedAt = undefined;
    } catch (error) {
      // Created but the header did not fit (a full disk): leave no empty segment behind.
      segment.file?.discard(true);
      segment.file = undefined;
      this.fail(error);
    }
    return segment;
  }

  /**
   * After a failure, starts a new log (rate-limited); true when writing works again. The old tree
   * holds leaves that never reached the disk, so continuing it would leave checkpoints no one can
   * check; a new origin keeps every log's checkpoints consistent.
   */
  private recover(): boolean {
    if (this.failedAt !== undefined && Date.now() - this.failedAt < RETRY_MS) return false;
    this.segment.file?.discard();
    const previous = this.log.origin;
    this.log = this.newLog();
    this.segment = this.startSegment(0, true, previous);
    return this.failedAt === undefined;
  }

  private fail(error: unknown): void {
    this.failedAt = Date.now();
    this.warn(`journal not writable under ${this.dir}; flows continue unrecorded (see lostRecords)`, error);
  }

  /** One warning per writer: a full disk must not flood the logs. */
  private warn(message: string, error: unknown): void {
    if (this.warned) return;
    this.warned = true;
    diag.warn(`provenant: ${message}: ${error instanceof Error ? error.message : String(error)}`);
  }

  private scheduleFlush(): void {
    if (this.options.writeThrough === true) return this.flushSync();
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => this.flushSync(), this.config.flushIntervalMs);
    this.flushTimer.unref();
  }

  private scheduleCheckpoint(): void {
    if (this.checkpointTimer) return;
    this.checkpointTimer = setTimeout(() => {
      this.checkpointTimer = undefined;
      try {
        if (this.segment.sinceCheckpoint > 0 && !this.closed) this.checkpoint();
        this.scheduleFlush();
      } catch (error) {
        this.warn('journal checkpoint failed', error);
      }
    }, this.config.checkpointIntervalMs);
    this.checkpointTimer.unref();
  }
}
