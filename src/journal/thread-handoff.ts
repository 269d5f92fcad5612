/**
 * A thread's log closed by the thread that created it. A worker thread (or Node's module-hooks
 * thread) gets no exit event when it is terminated or when the process exits, so it cannot write
 * its final checkpoint; its creator can, since the creator sees both (the Worker's 'exit' event,
 * its own process 'exit'). The two share a small SharedArrayBuffer: after every write the thread
 * leaves there its log's tree (size and peaks), origin, key and current segment with its size,
 * which costs it no hashing or signing; the creator computes the root, signs the note with the
 * same key (it holds the process's journal key; a log signed with another key is left alone) and
 * appends it as the closing checkpoint, only while the thread is not writing and the file is still
 * that size, so a closed log is always one verify accepts. A thread that writes after its creator
 * closed its log starts a new log (it never writes after a closing checkpoint), and that one ends
 * without a final checkpoint, as every thread's did before.
 */
import { closeSync, fstatSync, openSync, writeSync } from 'node:fs';
import { internally } from '../support/reentrancy.js';
import { checkpointText } from './checkpoint.js';
import { checkpointLine } from './format.js';
import type { SigningKey } from './keys.js';
import { MerkleAccumulator, type Hash } from './merkle.js';
import { formatNote, signNoteText } from './note.js';

/** Nothing to close yet (no write since the log opened, or the state did not fit). */
const EMPTY = 0;
/** A closing state for the file as it is. */
const READY = 1;
/** The thread is writing its log. */
const BUSY = 2;
/** Closed, by the thread itself or by its creator: nothing more goes into this log. */
const CLOSED = 3;

/** Int32 cells: the state, then the byte lengths of what follows the public key. */
const STATE = 0;
const PATH_LENGTH = 1;
const ORIGIN_LENGTH = 2;
const KEY_NAME_LENGTH = 3;
const PEAKS = 4;
const SIGNED = 5;
const CELLS = 8;
/** Float64 cells after the Int32 ones: the segment's size and the tree's. */
const FILE_SIZE = 0;
const TREE_SIZE = 1;
const NUMBERS_AT = CELLS * 4;
const KEY_AT = NUMBERS_AT + 16;
const TEXT_AT = KEY_AT + 32;
/** Path, origin, key name and up to 64 peaks (a tree of up to 2^64 leaves). */
const TEXT_BYTES = 8192;
const HASH_BYTES = 32;
/**
 * How long the creator waits, at its exit, for a running thread to finish the write it is in (a
 * few system calls): a bound for a thread stuck in its disk, not a guess at how long a write takes.
 */
const BUSY_WAIT_MS = 2000;

/** A new handoff, for the creator to hand to the thread it starts. */
export function newThreadHandoff(): SharedArrayBuffer {
  return new SharedArrayBuffer(TEXT_AT + TEXT_BYTES);
}

/** What closes a log now: its current segment file and that file's size, and the log's tree, origin and key. */
export interface LogClosing {
  path: string;
  size: number;
  origin: string;
  keyName: string;
  /** The raw Ed25519 public key the log is signed with; null for an unsigned log. */
  publicKey: Buffer | null;
  treeSize: number;
  peaks: readonly Hash[];
}

/** The thread's side, which the journal writer calls around each of its writes. */
export interface WriterHandoff {
  /** Before writing: false when the creator has closed the log (the writer starts a new one). */
  acquire(): boolean;
  /** After writing: how the log would be closed now; `null` when the thread closed it itself. */
  release(closing: LogClosing | undefined | null): void;
}

/** The thread's side of a handoff its creator handed over; undefined for anything else. */
export function threadHandoff(value: unknown): WriterHandoff | undefined {
  if (!(value instanceof SharedArrayBuffer) || value.byteLength !== TEXT_AT + TEXT_BYTES) return undefined;
  const cells = new Int32Array(value, 0, CELLS);
  const numbers = new Float64Array(value, NUMBERS_AT, 2);
  const key = new Uint8Array(value, KEY_AT, 32);
  const text = new Uint8Array(value, TEXT_AT, TEXT_BYTES);
  return {
    acquire() {
      // Only this thread moves the state out of CLOSED or into BUSY: one exchange decides.
      for (;;) {
        const state = Atomics.load(cells, STATE);
        if (state === CLOSED) return false;
        if (Atomics.compareExchange(cells, STATE, state, BUSY) === state) return true;
      }
    },
    release(closing) {
      let next = closing === null ? CLOSED : EMPTY;
      if (closing) {
        const parts = [closing.path, closing.origin, closing.keyName].map((part) => Buffer.from(part));
        const bytes = parts.reduce((sum, part) => sum + part.length, 0) + closing.peaks.length * HASH_BYTES;
        if (bytes <= TEXT_BYTES) {
          let at = 0;
          for (const part of [...parts, ...closing.peaks]) {
            text.set(part, at);
            at += part.length;
          }
          [cells[PATH_LENGTH], cells[ORIGIN_LENGTH], cells[KEY_NAME_LENGTH]] = parts.map((part) => part.length);
          cells[PEAKS] = closing.peaks.length;
          cells[SIGNED] = closing.publicKey === null ? 0 : 1;
          if (closing.publicKey) key.set(closing.publicKey);
          numbers[FILE_SIZE] = closing.size;
          numbers[TREE_SIZE] = closing.treeSize;
          next = READY;
        }
      }
      Atomics.store(cells, STATE, next);
      Atomics.notify(cells, STATE);
    },
  };
}

/**
 * The creator's side: appends the closing checkpoint of the log the thread left, unless the
 * thread closed it itself or wrote nothing. `running`: the thread may still be writing (the
 * creator's own exit); false once it has ended, when a write it was killed in the middle of is
 * left alone. `key`: the creator's journal key, which signs only a log signed with that same key.
 * Recording fails open: any error leaves the log as it was (verify then warns, as for a crash).
 */
export function closeThreadLog(buffer: SharedArrayBuffer, running: boolean, key: SigningKey | undefined): void {
  const cells = new Int32Array(buffer, 0, CELLS);
  let state = Atomics.compareExchange(cells, STATE, READY, CLOSED);
  if (state === BUSY && running) {
    Atomics.wait(cells, STATE, BUSY, BUSY_WAIT_MS);
    state = Atomics.compareExchange(cells, STATE, READY, CLOSED);
  }
  if (state !== READY) return;
  try {
    const note = closingNote(buffer, key);
    if (note === undefined) return;
    const [size] = new Float64Array(buffer, NUMBERS_AT, 1);
    const [path] = strings(buffer);
    internally(() => {
      const fd = openSync(path, 'r+');
      try {
        // Another size means lines the note does not cover: closing over them would fail verify.
        if (fstatSync(fd).size !== size) return;
        writeSync(fd, checkpointLine({ time: new Date().toISOString(), closes: 'log', note }) + '\n', size);
      } finally {
        closeSync(fd);
      }
    });
  } catch {
    // The log keeps its records and verifies with the warning of a thread that ended unclosed.
  }
}

/** Path, origin and key name as the thread left them. */
function strings(buffer: SharedArrayBuffer): [string, string, string] {
  const cells = new Int32Array(buffer, 0, CELLS);
  const text = Buffer.from(buffer, TEXT_AT, TEXT_BYTES);
  const ends = [cells[PATH_LENGTH], cells[ORIGIN_LENGTH], cells[KEY_NAME_LENGTH]];
  let at = 0;
  const [path, origin, keyName] = ends.map((length) => text.toString('utf8', at, (at += length)));
  return [path, origin, keyName];
}

/** The note that closes the log, signed as the thread signs; undefined when this key cannot sign it. */
function closingNote(buffer: SharedArrayBuffer, key: SigningKey | undefined): string | undefined {
  const cells = new Int32Array(buffer, 0, CELLS);
  const [, treeSize] = new Float64Array(buffer, NUMBERS_AT, 2);
  const [, origin, keyName] = strings(buffer);
  const text = Buffer.from(buffer, TEXT_AT, TEXT_BYTES);
  const peaksAt = cells[PATH_LENGTH] + cells[ORIGIN_LENGTH] + cells[KEY_NAME_LENGTH];
  const peaks: Hash[] = [];
  for (let i = 0; i < cells[PEAKS]; i++) peaks.push(Buffer.from(text.subarray(peaksAt + i * HASH_BYTES, peaksAt + (i + 1) * HASH_BYTES)));
  const body = checkpointText({ origin, size: treeSize, root: MerkleAccumulator.fromPeaks(treeSize, peaks).root() });
  if (cells[SIGNED] === 0) return body;
  if (key === undefined || !key.publicKey.equals(Buffer.from(buffer, KEY_AT, 32))) return undefined;
  return formatNote({ text: body, signatures: [signNoteText(body, keyName, key.privateKey)] });
}
