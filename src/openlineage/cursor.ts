/**
 * How far the OpenLineage export got in each log: `<state>/openlineage/<log>.cursor`, written
 * atomically after the receiver accepted a batch. The export worker moves it; journal retention
 * reads it so that no segment is deleted before its records were sent.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomically } from '../support/atomic-file.js';

/** How far a log was exported; `done`: an exited process's log sent to its end (never read again). */
export interface Cursor {
  exported: number;
  done?: boolean;
}

function cursorPath(stateDir: string, log: string): string {
  return join(stateDir, 'openlineage', `${log}.cursor`);
}

/** The cursor of a log (its segments' file-name prefix); undefined when the log was never exported. */
export function findCursor(stateDir: string, log: string): Cursor | undefined {
  try {
    return JSON.parse(readFileSync(cursorPath(stateDir, log), 'utf8')) as Cursor;
  } catch {
    return undefined;
  }
}

export function readCursor(stateDir: string, log: string): Cursor {
  return findCursor(stateDir, log) ?? { exported: 0 };
}

export function writeCursor(stateDir: string, log: string, cursor: Cursor): void {
  mkdirSync(join(stateDir, 'openlineage'), { recursive: true });
  writeFileAtomically(cursorPath(stateDir, log), JSON.stringify(cursor));
}
