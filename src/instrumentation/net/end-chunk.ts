/** Whether a stream-style `end(...)` call sends a last chunk (bytes), not just a callback or nothing. */
export function endsWithChunk(args: readonly unknown[]): boolean {
  const chunk = args[0];
  return chunk !== undefined && chunk !== null && typeof chunk !== 'function';
}
