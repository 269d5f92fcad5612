/**
 * Objects that arrive from another thread by transfer (`postMessage(value, [transferList])`,
 * `workerData` with a `transferList`): a `FileHandle` is this thread's handle of the same file
 * from then on, and a `MessagePort` is a way out of this thread. Neither passed through this
 * thread's patched APIs, so the receiving side adopts them: the fs instrumentation maps the
 * handle to its file (by its fd), the worker instrumentation mediates posts on the port.
 */
import { MessagePort } from 'node:worker_threads';

export class Transfers {
  private adoptHandle: (handle: object) => void = () => undefined;

  /** The fs instrumentation's way to adopt a FileHandle made in another thread. */
  onFileHandle(adopt: (handle: object) => void): void {
    this.adoptHandle = adopt;
  }

  /** Adopt what a received value carries: at its top level, or one level into an array or plain object (where apps put transferables). */
  received(value: unknown, adoptPort: (port: MessagePort) => void): void {
    this.adopt(value, adoptPort);
    if (Array.isArray(value)) for (const item of value as unknown[]) this.adopt(item, adoptPort);
    else if (isPlainObject(value)) for (const item of Object.values(value)) this.adopt(item, adoptPort);
  }

  private adopt(value: unknown, adoptPort: (port: MessagePort) => void): void {
    if (value instanceof MessagePort) adoptPort(value);
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
  return (
    typeof value === 'object' &&
    value !== null &&
    value.constructor.name === 'FileHandle' &&
    typeof (value as { fd?: unknown }).fd === 'number'
  );
}
