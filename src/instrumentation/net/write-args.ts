/**
 * The arguments of stream-style `write(...)`/`end(...)` calls, and what a denied one does to the
 * app's callback: the same on a server response, a socket and a ClientRequest (README "Denied
 * writes"): it is called once, on the next tick, with the ProvenanceDeniedError, as Node calls a
 * write's callback with the error that failed it.
 */
type Callback = (error?: Error | null) => void;

/** Whether a stream-style `end(...)` call sends a last chunk (bytes), not just a callback or nothing. */
export function endsWithChunk(args: ArrayLike<unknown>): boolean {
  const chunk = args[0];
  return chunk !== undefined && chunk !== null && typeof chunk !== 'function';
}

/** Calls the callback among `args` (if any) with `error` on the next tick. */
export function failCallback(args: ArrayLike<unknown>, error: Error): void {
  const callback = Array.from(args).find((arg): arg is Callback => typeof arg === 'function');
  if (callback) process.nextTick(callback, error);
}
