/**
 * The journal writer: one per process. `append` serialises a flow event, hashes it into the
 * current segment's Merkle tree and buffers the line; the buffer is written at most
 * `flushIntervalMs` later by an unref'd timer (or at once when it grows past MAX_PENDING_BYTES,
 * or on every append with `sync: 'always'`, which also fsyncs). Each segment is its own tree;
 * rotated segments are chained through the next header's `prev`. Errors never escape: a failed
 * write is one diag warning, the lines in flight are counted in `lostRecords`, and the writer
 * retries on a fresh segment at most once per RETRY_MS.
 */
import { diag } from '@opentelemetry/api';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { JournalConfig } from '../config/types.js';
import { FLOW_RECORD_FIELDS, type FlowRecord } from '../engine/flow-record.js';
import {
  checkpointLine,
  checkpointStatement,
  FORMAT_VERSION,
  headerHash,
  recordLine,
  type Checkpoint,
  type SegmentHeader,
} from './format.js';
import { loadSigningKey, signStatement, type SigningKey } from './keys.js';
import { MerkleAccumulator, leafHash } from './merkle.js';
import { SegmentFile } from './segment-file.js';

export interface JournalOptions {
  stateDir: string;
  config: JournalConfig;
  service: string;
  node: string;
  pid: number;
  /** Ed25519 private key, PEM text or a path to a PEM file (PROVENANT_JOURNAL_KEY). */
  signingKey?: string | undefined;
  /** Called with every checkpoint (e.g. to attach it to a span as a witness copy); must not throw. */
  onCheckpoint?: ((checkpoint: Checkpoint) => void) | undefined;
}

export interface JournalWriter {
  append(record: FlowRecord): void;
  /** Writes buffered lines now (synchronously; safe in a process 'exit' handler). */
  flushSync(): void;
  /** Final checkpoint, flush and fsync; later appends are counted as lost. */
  close(): void;
  /** Checkpoints the current segment now and returns the checkpoint. */
  checkpoint(): Checkpoint;
  /** Records that could not be written (unwritable directory, full disk, appends after close). */
  readonly lostRecords: number;
}

/** Past this many buffered bytes, append writes at once: memory stays bounded under any load. */
const MAX_PENDING_BYTES = 1 << 20;
const RETRY_MS = 1_000;
/** Room kept for the checkpoint lines (a periodic and the final one) so segments stay under segmentMaxBytes. */
const CHECKPOINT_RESERVE = 2 * 512;

interface Segment {
  name: string;
  index: number;
  headerHash: string;
  tree: MerkleAccumulator;
  file: SegmentFile | undefined;
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
  private readonly prefix: string;
  private nextSeq = 1;
  private segment: Segment;
  private pending: string[] = [];
  private pendingBytes = 0;
  private pendingRecords = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private failedAt: number | undefined;
  private warned = false;
  private closed = false;

  constructor(private readonly options: JournalOptions) {
    this.dir = join(options.stateDir, 'journal');
    this.config = options.config;
    this.key = loadKey(options.signingKey);
    const service = options.service.replace(/[^A-Za-z0-9._-]/g, '_') || 'unknown';
    this.prefix = `${service}-${options.pid}-${this.startedMs}-${randomBytes(2).toString('hex')}`;
    this.segment = this.startSegment(0, null, false);
  }

  append(record: FlowRecord): void {
    try {
      if (this.closed || (this.failedAt !== undefined && !this.recover())) {
        this.lostRecords++;
        return;
      }
      const canonical = this.serialise(record);
      const leaf = leafHash(canonical);
      const line = recordLine(canonical, leaf.toString('hex')) + '\n';
      const lineBytes = Buffer.byteLength(line);
      if (this.segment.tree.size > 0 && this.segmentBytes() + lineBytes + CHECKPOINT_RESERVE > this.config.segmentMaxBytes) {
        this.rotate();
        if (this.failedAt !== undefined) {
          this.lostRecords++;
          return;
        }
      }
      this.segment.tree.push(leaf);
      this.nextSeq++;
      this.segment.sinceCheckpoint++;
      this.buffer(line, 1, lineBytes);
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
    try {
      this.flush(this.config.sync === 'always');
    } catch (error) {
      this.warn('journal flush failed', error);
    }
  }

  checkpoint(): Checkpoint {
    return this.writeCheckpoint(false);
  }

  close(): void {
    if (this.closed) return;
    try {
      this.writeCheckpoint(true);
      this.flush(true);
      this.segment.file?.close(true);
    } catch (error) {
      this.warn('journal close failed', error);
    } finally {
      this.closed = true;
      clearTimeout(this.flushTimer);
      clearTimeout(this.checkpointTimer);
    }
  }

  /** The envelope (seq, time as ISO, service, node, pid), then the record's own fields in their fixed order. */
  private serialise(record: FlowRecord): string {
    const { service, node, pid } = this.options;
    const line: Record<string, unknown> = { seq: this.nextSeq, time: new Date(record.time).toISOString(), service, node, pid };
    for (const field of FLOW_RECORD_FIELDS) line[field] = record[field];
    return JSON.stringify(line);
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

  private writeCheckpoint(final: boolean): Checkpoint {
    const segment = this.segment;
    const unsigned = {
      type: 'checkpoint' as const,
      segment: segment.name,
      header: segment.headerHash,
      treeSize: segment.tree.size,
      root: segment.tree.root().toString('hex'),
      time: new Date().toISOString(),
      final,
      keyId: this.key?.keyId ?? null,
    };
    const checkpoint: Checkpoint = { ...unsigned, signature: this.key ? signStatement(this.key, checkpointStatement(unsigned)) : null };
    segment.sinceCheckpoint = 0;
    clearTimeout(this.checkpointTimer);
    this.checkpointTimer = undefined;
    // A checkpoint of a segment that cannot be written is not evidence of anything: not shared.
    if (!segment.file || this.closed) return checkpoint;
    this.buffer(checkpointLine(checkpoint) + '\n', 0);
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

  /** Final checkpoint on the full segment, then a new one chained to it. */
  private rotate(): void {
    const done = this.writeCheckpoint(true);
    this.flush(this.config.sync === 'always');
    const previous = this.segment;
    previous.file?.close(this.config.sync === 'always');
    if (this.failedAt !== undefined) return;
    this.segment = this.startSegment(previous.index + 1, { segment: previous.name, treeSize: done.treeSize, root: done.root }, false);
  }

  private startSegment(index: number, prev: SegmentHeader['prev'], afterFailure: boolean): Segment {
    const name = `${this.prefix}-${String(index).padStart(6, '0')}.jsonl`;
    const header: SegmentHeader = {
      type: 'header',
      version: FORMAT_VERSION,
      segment: name,
      service: this.options.service,
      node: this.options.node,
      pid: this.options.pid,
      started: new Date(this.startedMs).toISOString(),
      index,
      firstSeq: this.nextSeq,
      prev,
      afterFailure,
      publicKey: this.key?.publicKey ?? null,
      keyId: this.key?.keyId ?? null,
    };
    const line = JSON.stringify(header);
    const segment: Segment = {
      name,
      index,
      headerHash: headerHash(line),
      tree: new MerkleAccumulator(),
      file: undefined,
      sinceCheckpoint: 0,
    };
    try {
      segment.file = SegmentFile.create(this.dir, name);
      segment.file.write(line + '\n', this.config.sync === 'always');
      this.failedAt = undefined;
    } catch (error) {
      segment.file?.discard();
      segment.file = undefined;
      this.fail(error);
    }
    return segment;
  }

  /** After a failure, opens a fresh segment (rate-limited); true when writing works again. */
  private recover(): boolean {
    if (this.failedAt !== undefined && Date.now() - this.failedAt < RETRY_MS) return false;
    this.segment.file?.discard();
    this.segment = this.startSegment(this.segment.index + 1, null, true);
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

function loadKey(value: string | undefined): SigningKey | undefined {
  if (!value) return undefined;
  try {
    return loadSigningKey(value);
  } catch (error) {
    diag.warn(
      `provenant: journal signing key unusable, checkpoints will be unsigned: ${error instanceof Error ? error.message : String(error)}`,
    );
    return undefined;
  }
}
