/**
 * A thread's log closed by the thread that created it. A worker thread (or Node's module-hooks
 * thread) gets no exit event when it is terminated or when the process exits, so it cannot write
 * its final checkpoint; its creator can, since the creator sees both (the Worker's 'exit' event,
 * its own process 'exit'). The two share a small SharedArrayBuffer: after every write the thread
 * leaves there the signed note that would close its log now, with the segment's path and size;
 * the creator appends it as the closing checkpoint only while the thread is not writing and the
 * file is still that size, so a closed log is always one verify accepts. A thread that writes
 * after its creator closed its log starts a new log (it never writes after a closing
 * checkpoint), and that one ends without a final checkpoint, as every thread's did before.
 */
import { closeSync, fstatSync, openSync, writeSync } from 'node:fs';
import { internally } from '../support/reentrancy.js';
import { checkpointLine } from './format.js';

/** Nothing to close yet (no write since the log opened, or the note did not fit). */
const EMPTY = 0;
/** A closing note for the file as it is. */
const READY = 1;
/** The thread is writing its log. */
const BUSY = 2;
/** Closed, by the thread itself or by its creator: nothing more goes into this log. */
const CLOSED = 3;

const STATE = 0;
const PATH_LENGTH = 1;
const NOTE_LENGTH = 2;
const HEADER_BYTES = 16;
const SIZE_AT = 16;
const TEXT_AT = 24;
const TEXT_BYTES = 8192;
/**
 * How long the creator waits, at its exit, for a running thread to finish the write it is in (a
 * few system calls): a bound for a thread stuck in its disk, not a guess at how long a write takes.
 */
const BUSY_WAIT_MS = 2000;

/** A new handoff, for the creator to hand to the thread it starts. */
export function newThreadHandoff(): SharedArrayBuffer {
  return new SharedArrayBuffer(TEXT_AT + TEXT_BYTES);
}

/** What closes a log now: its current segment file, that file's size and the signed note of the tree. */
export interface LogClosing {
  path: string;
  size: number;
  note: string;
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
  const header = new Int32Array(value, 0, HEADER_BYTES / 4);
  const size = new Float64Array(value, SIZE_AT, 1);
  const text = new Uint8Array(value, TEXT_AT, TEXT_BYTES);
  return {
    acquire() {
      // Only this thread moves the state out of CLOSED or into BUSY: one exchange decides.
      for (;;) {
        const state = Atomics.load(header, STATE);
        if (state === CLOSED) return false;
        if (Atomics.compareExchange(header, STATE, state, BUSY) === state) return true;
      }
    },
    release(closing) {
      let next = closing === null ? CLOSED : EMPTY;
      if (closing) {
        const path = Buffer.from(closing.path);
        const note = Buffer.from(closing.note);
        if (path.length + note.length <= TEXT_BYTES) {
          text.set(path, 0);
          text.set(note, path.length);
          header[PATH_LENGTH] = path.length;
          header[NOTE_LENGTH] = note.length;
          size[0] = closing.size;
          next = READY;
        }
      }
      Atomics.store(header, STATE, next);
      Atomics.notify(header, STATE);
    },
  };
}

/**
 * The creator's side: appends the closing checkpoint the thread left, unless the thread closed
 * its log itself or wrote nothing. `running`: the thread may still be writing (the creator's own
 * exit); false once it has ended, when a write it was killed in the middle of is left alone.
 * Recording fails open: any error leaves the log as it was (verify then warns, as for a crash).
 */
export function closeThreadLog(buffer: SharedArrayBuffer, running: boolean): void {
  const header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
  let state = Atomics.compareExchange(header, STATE, READY, CLOSED);
  if (state === BUSY && running) {
    Atomics.wait(header, STATE, BUSY, BUSY_WAIT_MS);
    state = Atomics.compareExchange(header, STATE, READY, CLOSED);
  }
  if (state !== READY) return;
  const text = Buffer.from(buffer, TEXT_AT, TEXT_BYTES);
  const pathLength = header[PATH_LENGTH];
  const path = text.toString('utf8', 0, pathLength);
  const note = text.toString('utf8', pathLength, pathLength + header[NOTE_LENGTH]);
  const size = new Float64Array(buffer, SIZE_AT, 1)[0];
  try {
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
