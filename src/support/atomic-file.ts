/**
 * Replaces a file whole: written beside it under a name of this process, then renamed over it, so a
 * reader (or a crash) sees the old content or the new one, never half of either.
 */
import { renameSync, writeFileSync } from 'node:fs';

export function writeFileAtomically(path: string, content: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, path);
}
