/**
 * Objects that arrive from another thread by transfer (`postMessage(value, [transferList])`,
 * `workerData` with a `transferList`): a `FileHandle` is this thread's handle of the same file
 * from then on, and a `MessagePort` is a way out of this thread. Neither passed through this
 * thread's patched APIs, so the receiving side adopts them: the fs instrumentation maps the
 * handle to its file (by its fd), the worker instrumentation mediates posts on the port.
 */
import type { MessagePort } from 'node:worker_threads';

/** Entries of a received array or object looked at for transferables. */
const SCANNED_ENTRIES = 64;

export class Transfers {
  private adoptHandle: (handle: object) => void = () => undefined;

  /** The fs instrumentation's way to adopt a FileHandle made in another thread. */
  onFileHandle(adopt: (handle: object) => void): void {
    this.adoptHandle = adopt;
  }

  /**
   * Adopt what a received value carries: at its top level, or among the first entries of an array
   * or plain object (where apps put transferables), so a large message costs no full scan.
   */
  received(value: unknown, adoptPort: (port: MessagePort) => void): void {
    this.adopt(value, adoptPort);
    const entries = Array.isArray(value) ? (value as unknown[]) : isPlainObject(value) ? Object.values(value) : [];
    for (let i = 0; i < Math.min(entries.length, SCANNED_ENTRIES); i++) this.adopt(entries[i], adoptPort);
  }

  private adopt(value: unknown, adoptPort: (port: MessagePort) => void): void {
    // The global class is worker_threads' own, without loading that module.
    if (value instanceof (globalThis as unknown as { MessagePort: typeof MessagePort }).MessagePort) adoptPort(value);
    else if (isFileHandle(value)) this.adoptHandle(value);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** Node does not export the FileHandle class: a transferred one is known by its class name and numeric fd. */
function isFileHandle(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  const { constructor, fd } = value as { constructor?: { name?: unknown }; fd?: unknown };
  return constructor?.name === 'FileHandle' && typeof fd === 'number';
}
