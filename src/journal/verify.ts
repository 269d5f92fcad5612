/**
 * Verification of journal segments. Per segment: the header parses and names this file; records
 * carry contiguous seq numbers from the header's firstSeq and hashes equal to the leaf hash of
 * their canonical bytes; every checkpoint covers exactly the records before it with the right
 * root, header hash and (when the header has a key) a valid Ed25519 signature; nothing follows a
 * final checkpoint. Across a process's segments: indexes are contiguous and each header's `prev`
 * matches the previous segment's final checkpoint. Optional: a pinned public key and witness
 * checkpoints (copies held by the tracing backend) that the local segments must still contain.
 * The first problem of a segment is reported with its file and first bad sequence number.
 */
import {
  CHECKPOINT_PREFIX,
  checkpointStatement,
  FORMAT_VERSION,
  HEADER_PREFIX,
  headerHash,
  RECORD_PREFIX,
  recordSeq,
  splitRecordLine,
  type Checkpoint,
  type SegmentHeader,
} from './format.js';
import { keyIdOf, verifyStatement } from './keys.js';
import { leafHash, MerkleAccumulator } from './merkle.js';
import { forEachLine, listSegments, type SegmentRef } from './read.js';
import { statSync } from 'node:fs';

export interface VerifyOptions {
  /** Expected signer (SPKI DER, base64): every segment must be signed by exactly this key. */
  publicKey?: string | undefined;
  /** Checkpoints held elsewhere (e.g. exported with spans): each segment must still match them. */
  witnesses?: readonly Checkpoint[] | undefined;
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
  service: string | null;
  pid: number | null;
  index: number | null;
  firstSeq: number | null;
  lastSeq: number | null;
  records: number;
  checkpoints: number;
  keyId: string | null;
  /** A final checkpoint closes the segment (clean shutdown or rotation). */
  closed: boolean;
  status: SegmentStatus;
}

export interface VerifyReport {
  ok: boolean;
  segments: SegmentReport[];
  records: number;
  failures: Problem[];
  warnings: Problem[];
}

/** What the cross-segment checks need from one verified segment. */
interface SegmentState {
  report: SegmentReport;
  header: SegmentHeader | undefined;
  final: Checkpoint | undefined;
  failed: boolean;
}

class SegmentFailure extends Error {
  constructor(
    readonly seq: number | null,
    message: string,
  ) {
    super(message);
  }
}

export function verifyJournal(stateDirs: readonly string[], options: VerifyOptions = {}): VerifyReport {
  const failures: Problem[] = [];
  const warnings: Problem[] = [];
  const witnesses = groupWitnesses(options.witnesses ?? []);
  const states: SegmentState[] = [];
  for (const ref of listSegments(stateDirs)) {
    const state = verifySegment(ref, options.publicKey, witnesses.get(ref.name), failures, warnings);
    witnesses.delete(ref.name);
    states.push(state);
  }
  for (const [name] of witnesses)
    failures.push({ file: name, seq: null, message: 'segment is missing: a witness holds a checkpoint for it' });
  checkChains(states, failures, warnings);
  const failed = new Set(failures.map((f) => f.file));
  const segments = states.map((s) => ({ ...s.report, status: failed.has(s.report.file) ? ('failed' as const) : s.report.status }));
  return { ok: failures.length === 0, segments, records: segments.reduce((n, s) => n + s.records, 0), failures, warnings };
}

function groupWitnesses(witnesses: readonly Checkpoint[]): Map<string, Map<number, string>> {
  const bySegment = new Map<string, Map<number, string>>();
  for (const w of witnesses) {
    let sizes = bySegment.get(w.segment);
    if (!sizes) bySegment.set(w.segment, (sizes = new Map<number, string>()));
    sizes.set(w.treeSize, w.root);
  }
  return bySegment;
}

function verifySegment(
  ref: SegmentRef,
  pinnedKey: string | undefined,
  witnessed: Map<number, string> | undefined,
  failures: Problem[],
  warnings: Problem[],
): SegmentState {
  const report: SegmentReport = {
    file: ref.name,
    path: ref.path,
    service: null,
    pid: null,
    index: null,
    firstSeq: null,
    lastSeq: null,
    records: 0,
    checkpoints: 0,
    keyId: null,
    closed: false,
    status: 'ok',
  };
  const state: SegmentState = { report, header: undefined, final: undefined, failed: false };
  const tree = new MerkleAccumulator();
  let header: SegmentHeader | undefined;
  let hashOfHeader = '';
  let nextSeq = 0;
  // Records up to this tree size are covered by a verified checkpoint.
  let verifiedSize = 0;
  const uncovered = (): number => (header ? header.firstSeq + verifiedSize : 0);
  const checkWitness = (): void => {
    const root = witnessed?.get(tree.size);
    if (root !== undefined && root !== tree.root().toString('hex')) {
      throw new SegmentFailure(uncovered(), `records do not match the witnessed checkpoint at tree size ${tree.size}`);
    }
  };

  try {
    forEachLine(ref.path, (line, terminated) => {
      if (!header) {
        header = parseHeader(line, ref.name, pinnedKey);
        hashOfHeader = headerHash(line);
        nextSeq = header.firstSeq;
        Object.assign(report, {
          service: header.service,
          pid: header.pid,
          index: header.index,
          firstSeq: header.firstSeq,
          keyId: header.keyId,
        });
        state.header = header;
        checkWitness();
        return;
      }
      if (!terminated && line.length > 0) throw new SegmentFailure(nextSeq, 'last line is cut short (truncated file or torn write)');
      if (line.length === 0) {
        if (terminated) throw new SegmentFailure(nextSeq, 'empty line inside the segment');
        return;
      }
      if (state.final) throw new SegmentFailure(nextSeq, 'lines after the final checkpoint');
      if (line.startsWith(RECORD_PREFIX)) {
        const seq = recordSeq(line);
        if (seq !== nextSeq) {
          throw new SegmentFailure(
            nextSeq,
            seq === undefined
              ? 'record without a sequence number'
              : `expected seq ${nextSeq}, found ${seq} (record deleted, inserted or reordered)`,
          );
        }
        const parts = splitRecordLine(line);
        if (!parts) throw new SegmentFailure(seq, 'record without a hash');
        const leaf = leafHash(parts.canonical);
        if (leaf.toString('hex') !== parts.hash) throw new SegmentFailure(seq, 'record hash does not match its content (record altered)');
        tree.push(leaf);
        nextSeq++;
        report.lastSeq = seq;
        report.records++;
        if (witnessed) checkWitness();
        return;
      }
      if (line.startsWith(CHECKPOINT_PREFIX)) {
        const checkpoint = parseJson<Checkpoint>(line, nextSeq, 'checkpoint');
        checkCheckpoint(checkpoint, header, ref.name, hashOfHeader, tree, uncovered());
        verifiedSize = tree.size;
        report.checkpoints++;
        if (checkpoint.final) {
          state.final = checkpoint;
          report.closed = true;
        }
        return;
      }
      throw new SegmentFailure(nextSeq, 'line is neither a record nor a checkpoint');
    });
    if (!header) {
      if (statSync(ref.path).size > 0) throw new SegmentFailure(null, 'empty segment: no header');
      // A start that could not write its header (a full disk) leaves 0 bytes and no records. A
      // later segment of that process is still checked against its predecessor by index, so
      // emptying a segment that had records is caught by the chain (or by a witness for the last).
      report.status = 'unclosed';
      warnings.push({
        file: ref.name,
        seq: null,
        message: 'empty segment (0 bytes): its process could not write a header; it holds no records',
      });
      return state;
    }
    const h: SegmentHeader = header;
    if (witnessed) {
      const longest = Math.max(...witnessed.keys());
      if (longest > tree.size)
        throw new SegmentFailure(h.firstSeq + tree.size, `truncated: a witness saw ${longest} records, ${tree.size} remain`);
    }
    if (!report.closed) {
      report.status = 'unclosed';
      const open = tree.size - verifiedSize;
      warnings.push({
        file: ref.name,
        seq: open > 0 ? h.firstSeq + verifiedSize : null,
        message: `no final checkpoint (process still running or crashed)${open > 0 ? `; ${open} record(s) after the last checkpoint are hash-checked only` : ''}`,
      });
    }
  } catch (error) {
    state.failed = true;
    report.status = 'failed';
    failures.push(
      error instanceof SegmentFailure
        ? { file: ref.name, seq: error.seq, message: error.message }
        : { file: ref.name, seq: null, message: `unreadable: ${error instanceof Error ? error.message : String(error)}` },
    );
  }
  return state;
}

function parseJson<T>(line: string, seq: number | null, what: string): T {
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new SegmentFailure(seq, `${what} is not valid JSON`);
  }
}

function parseHeader(line: string, file: string, pinnedKey: string | undefined): SegmentHeader {
  if (!line.startsWith(HEADER_PREFIX)) throw new SegmentFailure(null, 'first line is not a segment header');
  const header = parseJson<SegmentHeader>(line, null, 'header');
  if (header.version !== FORMAT_VERSION)
    throw new SegmentFailure(
      null,
      `segment format version ${String(header.version)} is not ${FORMAT_VERSION}, the one this verifier reads`,
    );
  if (!Number.isSafeInteger(header.firstSeq) || !Number.isSafeInteger(header.index))
    throw new SegmentFailure(null, 'header lacks firstSeq or index');
  if (header.segment !== file)
    throw new SegmentFailure(header.firstSeq, `header names segment ${header.segment} (file renamed or copied over)`);
  if (header.publicKey !== null && header.keyId !== keyIdOf(Buffer.from(header.publicKey, 'base64'))) {
    throw new SegmentFailure(header.firstSeq, 'header keyId does not match its public key');
  }
  if (pinnedKey !== undefined && header.publicKey !== pinnedKey) {
    throw new SegmentFailure(
      header.firstSeq,
      header.publicKey === null
        ? 'segment is unsigned but a signing key is expected'
        : `segment is signed by key ${header.keyId}, not the expected key ${keyIdOf(Buffer.from(pinnedKey, 'base64'))}`,
    );
  }
  return header;
}

function checkCheckpoint(
  checkpoint: Checkpoint,
  header: SegmentHeader,
  file: string,
  hashOfHeader: string,
  tree: MerkleAccumulator,
  firstUncovered: number,
): void {
  const bad = (message: string): SegmentFailure =>
    new SegmentFailure(firstUncovered, `checkpoint at tree size ${checkpoint.treeSize}: ${message}`);
  if (checkpoint.segment !== file || checkpoint.header !== hashOfHeader) throw bad('belongs to another segment or header');
  if (checkpoint.treeSize !== tree.size) {
    // Seq numbers are contiguous, so missing records are the last ones; extra ones could be anywhere unverified.
    const seq = checkpoint.treeSize > tree.size ? header.firstSeq + tree.size : firstUncovered;
    throw new SegmentFailure(
      seq,
      `checkpoint at tree size ${checkpoint.treeSize}: covers ${checkpoint.treeSize} records but ${tree.size} precede it (records deleted or inserted)`,
    );
  }
  if (checkpoint.root !== tree.root().toString('hex')) throw bad('root does not match the records (records altered)');
  if (header.publicKey === null) {
    if (checkpoint.signature !== null) throw bad('signed, but the segment header has no key');
    return;
  }
  if (checkpoint.signature === null || checkpoint.keyId !== header.keyId) throw bad(`not signed by the segment key ${header.keyId}`);
  if (!verifyStatement(header.publicKey, checkpointStatement(checkpoint), checkpoint.signature))
    throw bad('signature does not verify (forged checkpoint)');
}

/** Cross-segment checks: a process's segments form one unbroken chain. */
function checkChains(states: readonly SegmentState[], failures: Problem[], warnings: Problem[]): void {
  const byProcess = new Map<string, SegmentState[]>();
  for (const state of states) {
    if (!state.header) continue;
    const key = state.report.file.replace(/-\d+\.jsonl$/, '');
    byProcess.set(key, [...(byProcess.get(key) ?? []), state]);
  }
  for (const chain of byProcess.values()) {
    chain.sort((a, b) => (a.header?.index ?? 0) - (b.header?.index ?? 0));
    let previous: SegmentState | undefined;
    for (const state of chain) {
      const header = state.header as SegmentHeader;
      const file = state.report.file;
      const expectedIndex = previous ? (previous.header as SegmentHeader).index + 1 : 0;
      if (header.afterFailure) {
        warnings.push({ file, seq: header.firstSeq, message: 'segment opened after a write failure: records before it may be lost' });
      } else if (header.index !== expectedIndex) {
        failures.push({
          file,
          seq: header.firstSeq,
          message: `segment ${header.index} follows segment ${expectedIndex - 1}: segment(s) of this process are missing`,
        });
      } else if (previous && !previous.failed) {
        const final = previous.final;
        const prev = header.prev;
        if (!final || !prev || prev.segment !== previous.report.file || prev.treeSize !== final.treeSize || prev.root !== final.root) {
          failures.push({
            file,
            seq: header.firstSeq,
            message: `does not chain to the final checkpoint of ${previous.report.file} (previous segment truncated or replaced)`,
          });
        } else if (header.firstSeq !== (previous.header as SegmentHeader).firstSeq + final.treeSize) {
          failures.push({ file, seq: header.firstSeq, message: `first seq ${header.firstSeq} does not follow ${previous.report.file}` });
        }
      } else if (!previous && header.prev !== null) {
        failures.push({ file, seq: header.firstSeq, message: `chains to ${header.prev.segment}, which is missing` });
      }
      previous = state;
    }
  }
}
