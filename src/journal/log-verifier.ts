/**
 * Verifies one log: its segments in index order against one Merkle tree. One pass shares the tree,
 * the next seq, the last verified checkpoint and how the previous segment ended, which is why the
 * header, record and checkpoint checks are methods of one class (over 250 lines for that reason;
 * the pruned prefix and held checkpoints are their own modules).
 */
import { statSync } from 'node:fs';
import { parseCheckpointText, type CheckpointBody } from './checkpoint.js';
import {
  CHECKPOINT_PREFIX,
  DefinitionError,
  HEADER_PREFIX,
  isFlowDefinitionLine,
  isFlowReference,
  READABLE_VERSIONS,
  RECORD_PREFIX,
  recordSeq,
  splitRecordLine,
  statedHashMatches,
} from './format.js';
import type { CheckpointLine, SegmentHeader } from './format.js';
import { HeldCheckpoints, readCosigned } from './held-checkpoints.js';
import { logKeyName } from './keys.js';
import { leafHash, MerkleAccumulator } from './merkle.js';
import { checkPrunedPrefix, treeBefore, type PruneEvidence } from './pruned-prefix.js';
import { checkNoteSignature, NoteError, parseNote, parseVkey, type Vkey } from './note.js';
import { forEachLine, type SegmentRef } from './read.js';
import { logStart, RecentResolver } from './occurrences.js';
import { FlowResolver } from './segment-flows.js';
import { SetResolver } from './set-resolver.js';
import {
  emptyReport,
  parseJson,
  SegmentFailure,
  type HeldCheckpoint,
  type LogReport,
  type Problem,
  type SegmentReport,
  type VerifyOptions,
} from './verify-report.js';

export class LogVerifier {
  private tree = new MerkleAccumulator();
  private readonly reports: SegmentReport[] = [];
  private first: SegmentHeader | undefined;
  private vkey: Vkey | undefined;
  private nextSeq = 1;
  /** Index of the first segment left (above 0 when retention deleted the ones before it). */
  private firstIndex = 0;
  /** Records retention deleted from the start of the log (their tree is the first header's frontier). */
  private pruned = 0;
  /** Records covered by a verified checkpoint. */
  private covered = 0;
  private lastEnd: CheckpointLine['closes'] = null;
  /** Held checkpoints of this log: the caller's and the witness client's cosigned copy. */
  private held: HeldCheckpoints | undefined;
  /** Source sets of the current segment (format 3; undefined for format 2). */
  private sets: SetResolver | undefined;
  /** Flows of the current segment (format 4). */
  private flows: FlowResolver | undefined;
  /** The last records of the current segment, which its occurrences build on (format 5). */
  private recent: RecentResolver | undefined;

  constructor(
    private readonly chain: readonly SegmentRef[],
    private readonly options: VerifyOptions,
    private readonly strict: boolean,
    private readonly heldByOrigin: Map<string, HeldCheckpoint[]>,
    readonly failures: Problem[],
    readonly warnings: Problem[],
    readonly notes: Problem[],
    /** Retention's record of what it deleted in this log's state dir. */
    private readonly pruning: readonly PruneEvidence[],
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
        prunedBefore: this.pruned > 0 ? this.pruned + 1 : null,
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
      if (!terminated && line.length > 0) {
        // A crash (kill -9, OOM) can tear the write in flight: at the end of a log the bytes after
        // the last newline are no record, and the records before them verify. As for a log cut at a
        // line boundary: a warning alone, a failure when a key or witnesses are pinned.
        if (ref !== this.chain[this.chain.length - 1])
          throw new SegmentFailure(this.nextSeq, 'last line is cut short (truncated file or torn write)');
        (this.strict ? this.failures : this.warnings).push({
          file: ref.name,
          seq: this.nextSeq,
          message: `last line is cut short (${line.length} bytes: a write torn by a crash, or a truncated file); the records before it verify`,
        });
        return;
      }
      if (line.length === 0) {
        if (terminated) throw new SegmentFailure(this.nextSeq, 'empty line inside the segment');
        return;
      }
      if (ended) throw new SegmentFailure(this.nextSeq, `lines after the checkpoint that closes the ${this.lastEnd ?? 'segment'}`);
      if (line.startsWith(RECORD_PREFIX)) {
        const definition = this.record(line);
        report.lastSeq = this.nextSeq - 1;
        if (definition) report.definitions++;
        else report.records++;
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
    if (!READABLE_VERSIONS.includes(header.version))
      throw new SegmentFailure(
        null,
        `segment format version ${String(header.version)} is not one this verifier reads (${READABLE_VERSIONS.join(', ')})`,
      );
    if (!Number.isSafeInteger(header.firstSeq) || !Number.isSafeInteger(header.index) || typeof header.log !== 'string')
      throw new SegmentFailure(null, 'header lacks log, firstSeq or index');
    if (header.segment !== file)
      throw new SegmentFailure(header.firstSeq, `header names segment ${header.segment} (file renamed or copied over)`);
    const expectedIndex = this.first ? this.firstIndex + this.reports.length - 1 : header.index;
    if (header.index !== expectedIndex)
      throw new SegmentFailure(header.firstSeq, `segment ${header.index} of this log, expected ${expectedIndex}: segment(s) are missing`);
    if (!this.first) {
      this.first = header;
      this.vkey = this.logKey(header);
      if (header.index > 0) {
        // Retention deleted the segments before this one: the tree goes on from the frontier.
        this.tree = treeBefore(header);
        this.firstIndex = header.index;
        this.pruned = this.tree.size;
        this.covered = this.tree.size;
        this.nextSeq = this.tree.size + 1;
        const prefix = file.replace(/-\d+\.jsonl$/, '');
        const { level, message } = checkPrunedPrefix(header, prefix, this.tree, this.vkey, this.pruning);
        (level === 'note' ? this.notes : this.warnings).push({ file, seq: header.firstSeq, message });
      }
      const held = [...(this.heldByOrigin.get(header.log) ?? []), ...readCosigned(this.chain[0].path)];
      this.heldByOrigin.delete(header.log);
      this.held = new HeldCheckpoints(header.log, held, this.vkey);
      this.held.check(this.tree, this.covered);
      if (header.afterFailure)
        this.warnings.push({
          file,
          seq: header.firstSeq,
          message: `log opened after a write failure ended log ${header.previousLog ?? '(unknown)'}: that log's last records may be lost`,
        });
    } else {
      if (header.log !== this.first.log || header.vkey !== this.first.vkey || header.version !== this.first.version || header.afterFailure)
        throw new SegmentFailure(header.firstSeq, 'header does not continue the log of the previous segment');
      if (this.lastEnd !== 'segment')
        throw new SegmentFailure(header.firstSeq, 'the previous segment does not end in a rotation checkpoint (truncated or replaced)');
    }
    if (header.firstSeq !== this.nextSeq)
      throw new SegmentFailure(header.firstSeq, `first seq ${header.firstSeq}, expected ${this.nextSeq}: records are missing or inserted`);
    this.lastEnd = null;
    // Each segment defines its own sets: nothing may refer into another segment.
    this.sets = header.version >= 3 ? new SetResolver() : undefined;
    this.flows = header.version >= 4 ? new FlowResolver() : undefined;
    this.recent = header.version >= 5 ? new RecentResolver(logStart(header.log)) : undefined;
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

  /** Checks one leaf; true when it is a source set definition rather than a record. */
  private record(line: string): boolean {
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
    if (!statedHashMatches(parts.hash, leaf)) throw new SegmentFailure(seq, 'record hash does not match its content (record altered)');
    const definition = this.sets ? this.definitions(line, seq, this.sets) : false;
    this.tree.push(leaf);
    this.nextSeq++;
    if (this.held && !this.held.empty) this.held.check(this.tree, this.covered);
    return definition;
  }

  /**
   * Format 3 to 5: a definition must hold (a set rebuilds to its count and digest, a flow names a
   * set defined before it) and a record must name a set or flow defined before it in its segment;
   * in format 5 an occurrence's time, ids and references to the records before it must resolve.
   */
  private definitions(line: string, seq: number, sets: SetResolver): boolean {
    try {
      const flows = this.flows;
      if (flows !== undefined && isFlowDefinitionLine(line)) {
        flows.define(seq, parseLeaf(line), (set) => sets.has(set));
        return true;
      }
      const recent = this.recent;
      if (flows !== undefined && isFlowReference(line)) {
        const parsed = parseLeaf(line);
        flows.check(recent === undefined ? parsed : recent.expand(seq, parsed, flows.namesOf(parsed.f)));
        return false;
      }
      const definition = sets.checkLine(line, seq);
      if (!definition && recent !== undefined) recent.whole(seq, parseLeaf(line));
      return definition;
    } catch (error) {
      if (error instanceof DefinitionError) throw new SegmentFailure(seq, error.message);
      throw error;
    }
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
    const truncation = this.held?.truncation(file, this.tree.size);
    if (truncation) this.failures.push(truncation);
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
    const witnesses = this.options.witnesses;
    return witnesses && this.held ? this.held.witnessed(witnesses, this.tree.size, file, this, this.pruned) : null;
  }
}

function parseLeaf(line: string): Record<string, unknown> {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new DefinitionError('line is not valid JSON');
  }
}
