/**
 * Whether an `open` flag can change a file: such an open is checked as a write before the file
 * is created or truncated.
 */
import { constants } from 'node:fs';

const WRITE_BITS = constants.O_WRONLY | constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC | constants.O_APPEND;
const READ_ONLY_FLAGS = new Set(['r', 'rs', 'sr']);

/** `flags` as `fs.open` takes it; undefined means 'r'. Unknown strings count as writes (Node rejects them anyway). */
export function opensForWrite(flags: unknown): boolean {
  if (flags === undefined || flags === null) return false;
  if (typeof flags === 'number') return (flags & WRITE_BITS) !== 0;
  return typeof flags !== 'string' || !READ_ONLY_FLAGS.has(flags);
}
