/**
 * One open segment file. All calls are synchronous and run `internally` so the fs
 * instrumentation never journals the journal. A failed write truncates back to the last
 * complete line, so a full disk never leaves a torn record behind.
 */
import { closeSync, fsyncSync, ftruncateSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { internally } from '../support/reentrancy.js';

export class SegmentFile {
  /** Bytes durably appended (complete lines only). */
  size = 0;

  private constructor(
    readonly path: string,
    private fd: number | undefined,
  ) {}

  /** Creates the file exclusively; throws the fs error (EEXIST, EACCES, EROFS, ENOSPC...). */
  static create(dir: string, name: string): SegmentFile {
    return internally(() => {
      mkdirSync(dir, { recursive: true });
      const path = join(dir, name);
      return new SegmentFile(path, openSync(path, 'wx', 0o640));
    });
  }

  /** Appends complete lines; on failure restores the previous length and rethrows. */
  write(text: string, sync: boolean): void {
    const fd = this.fd;
    if (fd === undefined) throw new Error('segment closed');
    internally(() => {
      try {
        const bytes = Buffer.from(text);
        let done = 0;
        while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, this.size + done);
        if (sync) fsyncSync(fd);
        this.size += bytes.length;
      } catch (error) {
        try {
          ftruncateSync(fd, this.size);
        } catch {
          // Nothing more can be done: the verifier reports a torn last line.
        }
        throw error;
      }
    });
  }

  close(sync: boolean): void {
    const fd = this.fd;
    if (fd === undefined) return;
    this.fd = undefined;
    internally(() => {
      try {
        if (sync) fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    });
  }

  /** Closes after a failure, ignoring further errors: the caller is already reporting one. `removeIfEmpty`: a segment that holds nothing goes too. */
  discard(removeIfEmpty = false): void {
    try {
      this.close(false);
    } catch {
      // The descriptor is gone either way.
    }
    if (!removeIfEmpty || this.size > 0) return;
    try {
      internally(() => rmSync(this.path, { force: true }));
    } catch {
      // It stays; verify reports a 0-byte segment as a warning.
    }
  }
}
